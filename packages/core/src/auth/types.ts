/**
 * Token lifecycle contracts: where access tokens come from and where refresh tokens live.
 * Small on purpose, so that a Redis-backed store or a fleet-wide refresher can replace them.
 */

/** A set of OAuth tokens as stored. Times are epoch milliseconds. */
export interface TokenSet {
  accessToken?: string;
  /** When the access token expires; undefined when unknown. */
  expiresAt?: number;
  refreshToken?: string;
  /** Provider-specific extras (scope, token type, uid…); never secrets. */
  meta?: Record<string, string>;
}

/** Persists tokens for one account key. Writes must be atomic. */
export interface TokenStore {
  load(key: string): Promise<TokenSet | undefined>;
  save(key: string, tokens: TokenSet): Promise<void>;
  delete(key: string): Promise<void>;
  /** Release what the store holds open (a Redis connection), so that the process can exit. Optional. */
  close?(): Promise<void>;
}

/** Events of a token provider. */
export type TokenProviderEvents = {
  refreshed: { expiresAt: number | undefined };
  "refresh-failed": { error: Error; permanent: boolean };
};

/** Supplies a valid access token for SASL, refreshing as needed. */
export interface TokenProvider {
  /**
   * A valid access token. With `forceRefresh`, the cached one is discarded first
   * (used after a SASL `not-authorized`). Concurrent callers share one refresh.
   * Rejects with `PermanentAuthError` when consent is gone.
   */
  getAccessToken(opts?: { forceRefresh?: boolean }): Promise<string>;
  /** Start background refresh ahead of expiry. */
  start?(): void;
  /**
   * Read the token store now, before connecting: rejects with a configuration error when the store
   * cannot be used (unsafe owner or mode, corrupt entry); other failures wait for the first token request.
   */
  preflight?(): Promise<void>;
  /** Stop timers; no further calls to the token endpoint. */
  stop?(): void;
  /** `stop()`, then close the token store (bounded); the CLI calls it when the bot stops, also on a fatal error. */
  close?(): Promise<void>;
  on?<K extends keyof TokenProviderEvents>(event: K, listener: (p: TokenProviderEvents[K]) => void): unknown;
}

/** Per-request options of a token endpoint call. */
export interface EndpointRequestOptions {
  /** Aborts the HTTP request (timeout or provider stop). */
  signal?: AbortSignal;
}

/**
 * A token endpoint able to redeem a refresh token (OAuth 2.0 `refresh_token` grant, WRAP refresh…).
 * Implementations throw `PermanentAuthError` when retrying cannot help (revoked consent, bad client)
 * and `TransientAuthError` (./errors.ts) otherwise. Error messages never contain tokens or secrets.
 */
export interface TokenEndpoint {
  /** Redeem `refreshToken`; the result's `refreshToken` is set only when the server rotated it. */
  refresh(refreshToken: string, opts?: EndpointRequestOptions): Promise<TokenSet>;
}

/** A token endpoint that can also redeem an authorization code (used by `botrun auth`). */
export interface CodeExchanger {
  /** Exchange an authorization / verification code obtained with `redirectUri`. */
  exchangeCode(
    code: string,
    redirectUri: string,
    opts?: EndpointRequestOptions & { codeVerifier?: string },
  ): Promise<TokenSet>;
}

/** Consent revoked or expired, or client misconfigured: re-run `botrun auth`. Never retried. */
export class PermanentAuthError extends Error {
  override readonly name = "PermanentAuthError";
  constructor(
    message: string,
    /** The OAuth error code, e.g. `invalid_grant`. */
    readonly code: string,
  ) {
    super(message);
  }
}
