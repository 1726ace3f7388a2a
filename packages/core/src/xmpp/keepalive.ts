/**
 * Dead-connection detection: after `intervalMs` without any inbound element, ping the server
 * (XEP-0199); no reply within `timeoutMs` calls `onDead`. Works on a black-holed socket (no FIN),
 * where writes still succeed and only silence tells.
 */

/** Options of `startKeepalive`. */
export interface KeepaliveOptions {
  intervalMs: number;
  timeoutMs: number;
  /** Send a ping and resolve when the reply arrives (rejections count as failure). */
  ping(timeoutMs: number): Promise<unknown>;
  onDead(reason: string): void;
  now?: () => number;
}

/** A running keepalive. `touch()` on every inbound element; `stop()` clears its timers. */
export interface Keepalive {
  touch(): void;
  stop(): void;
}

/** Start pinging while idle. Detection happens within intervalMs + timeoutMs of the last inbound data. */
export function startKeepalive(opts: KeepaliveOptions): Keepalive {
  const now = opts.now ?? Date.now;
  let last = now();
  let stopped = false;
  let inFlight = false;
  let timer: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;

  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(tick, Math.max(ms, 10));
  };
  const tick = () => {
    if (stopped || inFlight) return;
    const idle = now() - last;
    if (idle < opts.intervalMs) return schedule(opts.intervalMs - idle);
    inFlight = true;
    const started = now();
    // A hard deadline independent of the ping promise, so nothing can keep a dead link alive.
    deadline = setTimeout(() => {
      if (!stopped) {
        stopped = true;
        opts.onDead(`no reply to ping within ${opts.timeoutMs} ms`);
      }
    }, opts.timeoutMs);
    opts.ping(opts.timeoutMs).then(
      () => {
        clearTimeout(deadline);
        inFlight = false;
        if (last < started) last = now();
        schedule(opts.intervalMs);
      },
      (err: unknown) => {
        clearTimeout(deadline);
        inFlight = false;
        if (stopped) return;
        // An error reply still proves the link is alive; a timeout or write error does not.
        if ((err as { name?: string })?.name === "StanzaError") {
          last = now();
          return schedule(opts.intervalMs);
        }
        stopped = true;
        opts.onDead(`ping failed: ${(err as Error)?.message ?? String(err)}`);
      },
    );
  };
  schedule(opts.intervalMs);
  return {
    touch() {
      last = now();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(deadline);
    },
  };
}
