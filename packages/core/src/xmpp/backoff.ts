/** Reconnect delays: exponential backoff with full jitter, capped. */

/** Backoff parameters in milliseconds. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Random source in [0, 1); injectable for tests. */
  random?: () => number;
}

/** Delay before reconnect attempt `attempt` (1-based): random(0, min(max, base·2^(attempt-1))). */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  const r = (opts.random ?? Math.random)();
  return Math.floor(Math.max(0, Math.min(1, r)) * exp);
}
