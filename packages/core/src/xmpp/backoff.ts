/** Retry delays, the one implementation: capped exponential backoff, and full jitter within it (reconnects, token refreshes, device-flow polls). */

/** Backoff parameters in milliseconds. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Random source in [0, 1); injectable for tests. */
  random?: () => number;
}

/** The capped exponential delay before attempt `attempt` (1-based): min(max, base·2^(attempt-1)). */
export function backoffCeiling(attempt: number, opts: Pick<BackoffOptions, "baseMs" | "maxMs">): number {
  return Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}

/** Full jitter: a delay drawn from random(0, backoffCeiling(attempt)), whole milliseconds. */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const r = (opts.random ?? Math.random)();
  return Math.floor(Math.max(0, Math.min(1, r)) * backoffCeiling(attempt, opts));
}
