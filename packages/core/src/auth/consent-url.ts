/** The consent page's URL in the authorization-code flow, for OAuth 2.0 (RFC 6749 §4.1.1, with a PKCE S256 challenge, RFC 7636 §4.3) or WRAP. */
import { createHash } from "node:crypto";
import { LIVE_WRAP_URLS } from "./wrap-endpoint.ts";

/** Live Connect's OAuth 2.0 authorize URL. */
export const LIVE_OAUTH2_AUTHORIZE_URL = "https://login.live.com/oauth20_authorize.srf";
/** Default OAuth 2.0 scope: Messenger plus a refresh token. */
export const DEFAULT_OAUTH2_SCOPE = "wl.messenger wl.offline_access";
/** Default WRAP scope (UNVERIFIED name of the Messenger Connect sign-in scope; override with OAUTH_SCOPE). */
export const DEFAULT_WRAP_SCOPE = "WL_Messenger.SignIn";

/** What the consent URL carries. */
export interface ConsentRequest {
  wrap: boolean;
  clientId: string;
  /** Consent page; default Live's (OAuth 2.0 authorize / WRAP Connect.aspx). */
  authorizeUrl?: string;
  scope?: string;
  /** OAuth 2.0's `redirect_uri`. */
  redirectUri: string;
  /** WRAP's `wrap_callback` (the redirect URI carrying `state`: WRAP has no parameter of its own for it). */
  wrapCallback: string;
  state: string;
  /** The PKCE code verifier, if one is sent (OAuth 2.0 only). */
  verifier?: string;
}

/** The URL the user opens to grant access. */
export function consentUrl(r: ConsentRequest): string {
  const consent = new URL(r.authorizeUrl ?? (r.wrap ? LIVE_WRAP_URLS.consent : LIVE_OAUTH2_AUTHORIZE_URL));
  if (r.wrap) {
    consent.searchParams.set("wrap_client_id", r.clientId);
    consent.searchParams.set("wrap_callback", r.wrapCallback);
    consent.searchParams.set("wrap_scope", r.scope ?? DEFAULT_WRAP_SCOPE);
  } else {
    consent.searchParams.set("client_id", r.clientId);
    consent.searchParams.set("response_type", "code");
    consent.searchParams.set("redirect_uri", r.redirectUri);
    consent.searchParams.set("scope", r.scope ?? DEFAULT_OAUTH2_SCOPE);
    consent.searchParams.set("state", r.state);
    if (r.verifier) {
      consent.searchParams.set("code_challenge", createHash("sha256").update(r.verifier).digest("base64url"));
      consent.searchParams.set("code_challenge_method", "S256");
    }
  }
  return consent.toString();
}
