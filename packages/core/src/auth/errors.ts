/**
 * Error classes of the token lifecycle besides `PermanentAuthError` (in types.ts):
 * transient token-endpoint failures and missing/invalid auth configuration.
 */
import { ConfigError } from "../config/errors.ts";

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
 * An auth setting is missing or invalid. A `ConfigError` (so the CLI maps it to exit code 2) whose
 * message is a full sentence; `setting` names the environment variable to fix (e.g. `OAUTH_CLIENT_ID`).
 */
export class AuthConfigError extends ConfigError {
  constructor(message: string, setting: string) {
    super(setting, message);
    this.message = message;
  }
}
