/**
 * Error classes of the token lifecycle besides `PermanentAuthError` (in types.ts):
 * transient token-endpoint failures and missing/invalid auth configuration.
 */

/** A token-endpoint failure worth retrying later: network error, timeout, HTTP 5xx/429/408. */
export class TransientAuthError extends Error {
  override readonly name = "TransientAuthError";
  constructor(
    message: string,
    /** Short machine-readable cause: `network`, `timeout`, `http_503`, `temporarily_unavailable`, `invalid_response`… */
    readonly code: string,
    readonly details: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
  }
}

/**
 * An auth setting is missing or invalid. `setting` names the environment variable to fix
 * (e.g. `OAUTH_CLIENT_ID`). Defined here because `config/errors.ts` did not exist yet.
 */
export class AuthConfigError extends Error {
  override readonly name = "AuthConfigError";
  constructor(
    message: string,
    /** The setting (environment variable) to fix. */
    readonly setting: string,
  ) {
    super(message);
  }
}
