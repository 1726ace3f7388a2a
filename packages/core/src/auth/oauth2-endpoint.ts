/**
 * OAuth 2.0 token endpoint client (RFC 6749): the `refresh_token` grant (§6) and the
 * `authorization_code` grant (§4.1.3), defaulting to Live Connect's token URL.
 * Errors are classified: `invalid_grant`/`invalid_client`/… → `PermanentAuthError`, 5xx/429/network → `TransientAuthError`.
 */
import { TransientAuthError } from "./errors.ts";
import { expiresAtFrom, type FetchLike, isTransientStatus, postForm, safeHost, scrub, type FormResponse } from "./http.ts";
import { type CodeExchanger, type EndpointRequestOptions, PermanentAuthError, type TokenEndpoint, type TokenSet } from "./types.ts";

/** Live Connect's OAuth 2.0 token endpoint. */
export const LIVE_OAUTH2_TOKEN_URL = "https://login.live.com/oauth20_token.srf";

/** OAuth error codes after which retrying cannot help. */
export const PERMANENT_OAUTH_ERRORS: ReadonlySet<string> = new Set([
  "invalid_grant",
  "invalid_client",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "invalid_request",
]);

/** Options of `OAuth2TokenEndpoint`. */
export interface OAuth2EndpointOptions {
  /** Token URL; default Live Connect's. */
  tokenUrl?: string;
  clientId: string;
  clientSecret?: string;
  /** How the client secret is sent: in the form body (default, Live-compatible) or as HTTP Basic. */
  clientAuth?: "body" | "basic";
  /** Scope to request on refresh (optional; omitted when undefined). */
  scope?: string;
  /** `redirect_uri` sent with refresh requests (Live desktop apps sent it; optional). */
  refreshRedirectUri?: string;
  fetch?: FetchLike;
  /** Clock for `expiresAt` (epoch ms). */
  now?: () => number;
}

/** OAuth 2.0 token endpoint (refresh and code exchange). */
export class OAuth2TokenEndpoint implements TokenEndpoint, CodeExchanger {
  readonly tokenUrl: string;
  readonly #o: OAuth2EndpointOptions;
  readonly #fetch: FetchLike;
  readonly #now: () => number;

  constructor(opts: OAuth2EndpointOptions) {
    this.#o = opts;
    this.tokenUrl = opts.tokenUrl ?? LIVE_OAUTH2_TOKEN_URL;
    this.#fetch = opts.fetch ?? ((i, init) => fetch(i, init));
    this.#now = opts.now ?? Date.now;
  }

  refresh(refreshToken: string, opts: EndpointRequestOptions = {}): Promise<TokenSet> {
    return this.#grant(
      { grant_type: "refresh_token", refresh_token: refreshToken, scope: this.#o.scope, redirect_uri: this.#o.refreshRedirectUri },
      [refreshToken],
      opts.signal,
    );
  }

  exchangeCode(code: string, redirectUri: string, opts: EndpointRequestOptions & { codeVerifier?: string } = {}): Promise<TokenSet> {
    return this.#grant(
      { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: opts.codeVerifier },
      [code, opts.codeVerifier],
      opts.signal,
    );
  }

  async #grant(params: Record<string, string | undefined>, secrets: Array<string | undefined>, signal?: AbortSignal): Promise<TokenSet> {
    const { clientId, clientSecret, clientAuth = "body" } = this.#o;
    const headers: Record<string, string> = {};
    const form: Record<string, string | undefined> = { ...params, client_id: clientId };
    if (clientSecret !== undefined) {
      if (clientAuth === "basic") {
        // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
        const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
        headers.authorization = "Basic " + Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString("base64");
      } else {
        form.client_secret = clientSecret;
      }
    }
    const started = this.#now();
    const res = await postForm(this.#fetch, this.tokenUrl, form, signal ? { signal, headers } : { headers });
    return parseOAuth2Response(res, started, safeHost(this.tokenUrl), [...secrets, clientSecret]);
  }
}

/** Parse an RFC 6749 token response, or throw a classified error (exported for tests and the WRAP client's reuse). */
export function parseOAuth2Response(res: FormResponse, issuedAt: number, host: string, secrets: Array<string | undefined>): TokenSet {
  let json: Record<string, unknown> | undefined;
  try {
    const v: unknown = JSON.parse(res.body);
    if (v && typeof v === "object" && !Array.isArray(v)) json = v as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  if (res.status >= 200 && res.status < 300) {
    const access = json?.access_token;
    if (typeof access !== "string" || !access) {
      throw new TransientAuthError(`token endpoint ${host} returned HTTP ${res.status} without an access_token`, "invalid_response", { status: res.status });
    }
    const out: TokenSet = { accessToken: access, meta: { obtainedAt: String(issuedAt) } };
    const expiresAt = expiresAtFrom(issuedAt, json?.expires_in);
    if (expiresAt !== undefined) out.expiresAt = expiresAt;
    if (typeof json?.refresh_token === "string" && json.refresh_token) out.refreshToken = json.refresh_token;
    for (const k of ["scope", "token_type", "user_id"] as const) {
      const v = json?.[k];
      if (typeof v === "string" && out.meta) out.meta[k] = v;
    }
    return out;
  }
  const code = typeof json?.error === "string" ? json.error : undefined;
  const desc = scrub(typeof json?.error_description === "string" ? json.error_description : undefined, secrets);
  const what = `token endpoint ${host} answered HTTP ${res.status}${code ? ` ${scrub(code, secrets)}` : ""}${desc ? `: ${desc}` : ""}`;
  if (isTransientStatus(res.status) || code === "temporarily_unavailable" || code === "server_error") {
    const details: { status: number; retryAfterMs?: number } = { status: res.status };
    if (res.retryAfterMs !== undefined) details.retryAfterMs = res.retryAfterMs;
    throw new TransientAuthError(what, code ?? `http_${res.status}`, details);
  }
  if (code && PERMANENT_OAUTH_ERRORS.has(code)) throw new PermanentAuthError(what, code);
  // Any other 4xx (wrong URL, unknown error code): retrying the same request cannot help.
  throw new PermanentAuthError(what, code ? scrub(code, secrets) ?? `http_${res.status}` : `http_${res.status}`);
}
