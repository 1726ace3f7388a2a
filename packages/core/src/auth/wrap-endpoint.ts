/**
 * Legacy OAuth WRAP token endpoint client (Windows Live "Messenger Connect", MSDN ff750952 / ff752395):
 * refresh with `wrap_refresh_token`, verification-code exchange, form-encoded responses and
 * `error_code` / `wrap_error_reason` error classification.
 */
import { TransientAuthError } from "./errors.ts";
import { expiresAtFrom, type FetchLike, type FormResponse, isTransientStatus, postForm, safeHost, scrub } from "./http.ts";
import { type CodeExchanger, type EndpointRequestOptions, PermanentAuthError, type TokenEndpoint, type TokenSet } from "./types.ts";

/** consent.live.com WRAP endpoints (legacy). */
export const LIVE_WRAP_URLS = {
  consent: "https://consent.live.com/Connect.aspx",
  accessToken: "https://consent.live.com/AccessToken.aspx",
  refresh: "https://consent.live.com/RefreshToken.aspx",
} as const;

/** Options of `WrapTokenEndpoint`. */
export interface WrapEndpointOptions {
  /** Refresh URL; default `https://consent.live.com/RefreshToken.aspx`. */
  refreshUrl?: string;
  /** Verification-code exchange URL; default `https://consent.live.com/AccessToken.aspx`. */
  accessTokenUrl?: string;
  /** Sent as `wrap_client_id` (always with code exchange; with refresh when configured). */
  clientId?: string;
  clientSecret?: string;
  /** `idtype` of the code exchange; default `CID`. */
  idType?: "CID" | "PWID";
  fetch?: FetchLike;
  now?: () => number;
}

/** Words in `wrap_error_reason` / `error_code` meaning "re-consent needed". */
const PERMANENT_REASON = /expired|revoked|invalid|unauthori[sz]ed|denied|mismatch|bad_|not_found|consent/i;

/** OAuth WRAP token endpoint. */
export class WrapTokenEndpoint implements TokenEndpoint, CodeExchanger {
  readonly refreshUrl: string;
  readonly accessTokenUrl: string;
  readonly #o: WrapEndpointOptions;
  readonly #fetch: FetchLike;
  readonly #now: () => number;

  constructor(opts: WrapEndpointOptions = {}) {
    this.#o = opts;
    this.refreshUrl = opts.refreshUrl ?? LIVE_WRAP_URLS.refresh;
    this.accessTokenUrl = opts.accessTokenUrl ?? LIVE_WRAP_URLS.accessToken;
    this.#fetch = opts.fetch ?? ((i, init) => fetch(i, init));
    this.#now = opts.now ?? Date.now;
  }

  async refresh(refreshToken: string, opts: EndpointRequestOptions = {}): Promise<TokenSet> {
    const started = this.#now();
    const res = await postForm(
      this.#fetch,
      this.refreshUrl,
      { wrap_refresh_token: refreshToken, wrap_client_id: this.#o.clientId, wrap_client_secret: this.#o.clientSecret },
      opts.signal ? { signal: opts.signal } : {},
    );
    return parseWrapResponse(res, started, safeHost(this.refreshUrl), [refreshToken, this.#o.clientSecret]);
  }

  async exchangeCode(code: string, redirectUri: string, opts: EndpointRequestOptions = {}): Promise<TokenSet> {
    const { clientId, clientSecret } = this.#o;
    if (!clientId) throw new PermanentAuthError("WRAP verification-code exchange needs a client id (OAUTH_CLIENT_ID)", "invalid_client");
    const started = this.#now();
    const res = await postForm(
      this.#fetch,
      this.accessTokenUrl,
      {
        wrap_client_id: clientId,
        wrap_client_secret: clientSecret,
        wrap_callback: redirectUri,
        wrap_verification_code: code,
        idtype: this.#o.idType ?? "CID",
      },
      opts.signal ? { signal: opts.signal } : {},
    );
    return parseWrapResponse(res, started, safeHost(this.accessTokenUrl), [code, clientSecret]);
  }
}

/** Parse a form-encoded WRAP response, or throw a classified error. */
export function parseWrapResponse(res: FormResponse, issuedAt: number, host: string, secrets: Array<string | undefined>): TokenSet {
  const form = new URLSearchParams(res.body.trim());
  const access = form.get("wrap_access_token");
  const reasonRaw = form.get("wrap_error_reason") ?? form.get("error_code") ?? form.get("error") ?? undefined;
  const reason = scrub(reasonRaw, secrets);
  if (res.status >= 200 && res.status < 300 && access) {
    const out: TokenSet = { accessToken: access, meta: { obtainedAt: String(issuedAt) } };
    const expiresAt = expiresAtFrom(issuedAt, form.get("wrap_access_token_expires_in"));
    if (expiresAt !== undefined) out.expiresAt = expiresAt;
    const rt = form.get("wrap_refresh_token");
    if (rt) out.refreshToken = rt;
    const uid = form.get("uid");
    if (uid && out.meta) out.meta.uid = uid;
    return out;
  }
  const errorCode = scrub(form.get("error_code") ?? undefined, secrets);
  const what = `WRAP token endpoint ${host} answered HTTP ${res.status}${reason ? ` ${reason}` : ""}${errorCode && errorCode !== reason ? ` (error_code ${errorCode})` : ""}`;
  if (isTransientStatus(res.status)) {
    const details: { status: number; retryAfterMs?: number } = { status: res.status };
    if (res.retryAfterMs !== undefined) details.retryAfterMs = res.retryAfterMs;
    throw new TransientAuthError(what, `http_${res.status}`, details);
  }
  if (res.status >= 200 && res.status < 300 && !reason) {
    throw new TransientAuthError(`WRAP token endpoint ${host} returned HTTP ${res.status} without wrap_access_token`, "invalid_response", { status: res.status });
  }
  const code = reason && PERMANENT_REASON.test(reason) ? reason : reason ? `wrap_${reason}` : `http_${res.status}`;
  throw new PermanentAuthError(what, code);
}
