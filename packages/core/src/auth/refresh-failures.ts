/** How a failed token refresh is told to the operator and retried: the transient error's text, the retry delay, the permanent failure's hint. */
import { backoffDelay } from "../xmpp/backoff.ts";
import { TransientAuthError } from "./errors.ts";
import { scrub } from "./http.ts";

/** Longest Retry-After honoured. */
const MAX_RETRY_AFTER_MS = 3600_000;
/** Error codes meaning the grant itself is dead (re-consent needed), as opposed to a bad client. */
const DEAD_GRANT = /invalid_grant|expired|revoked/i;

/** `err` as a `TransientAuthError`, its message scrubbed of the given tokens. */
export function asTransient(err: unknown, secrets: Array<string | undefined>): TransientAuthError {
  if (err instanceof TransientAuthError) return err;
  return new TransientAuthError(`token refresh failed: ${scrub((err as Error)?.message, secrets) ?? "unknown error"}`, "unknown");
}

/** Delay before retry number `failures`: capped full jitter, at least 100 ms, or the server's Retry-After up to an hour. */
export function retryDelay(
  failures: number,
  err: TransientAuthError,
  backoff: { initialMs?: number; maxMs?: number } | undefined,
  random: (() => number) | undefined,
): number {
  const { initialMs = 1000, maxMs = 5 * 60_000 } = backoff ?? {};
  const jitter = backoffDelay(failures, { baseMs: initialMs, maxMs, random });
  // A Retry-After is honoured up to an hour (a hostile "retry in ten years" must not end refreshing).
  return Math.max(100, jitter, Math.min(err.details.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

/** True if the endpoint's error code says the grant itself is dead (re-consent needed). */
export function isDeadGrant(code: string): boolean {
  return DEAD_GRANT.test(code);
}

/** The one line an operator sees for a permanent refresh failure, with what to check and `botrun auth <bot>`. */
export function permanentFailureMessage(code: string, bot: string): string {
  const hint = `run \`botrun auth ${bot}\``;
  if (isDeadGrant(code)) return `OAuth consent revoked or expired (${code}): ${hint}`;
  if (code === "invalid_client" || code === "unauthorized_client") {
    return `OAuth client rejected (${code}): check OAUTH_CLIENT_ID / OAUTH_CLIENT_SECRET, then ${hint}`;
  }
  return `OAuth token refresh rejected (${code}): check the OAUTH_* settings, then ${hint}`;
}
