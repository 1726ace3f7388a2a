/** Small async and error-text helpers shared by the transport and the runtime: bounded waits, one-line error text for logs. */

/** An error (or any thrown value) as one line of log text: its name (unless plain `Error`) and message, whitespace collapsed. */
export function errorText(err: unknown): string {
  const m = err instanceof Error ? `${err.name === "Error" ? "" : err.name + ": "}${err.message}` : String(err);
  return m.replace(/\s+/g, " ").trim();
}

/**
 * Waits until `p` settles or `ms` pass, whichever comes first; true when `p` settled in time.
 * A rejection counts as settled and is not rethrown (the caller only bounds the wait).
 */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(t);
      resolve(true);
    };
    p.then(done, done);
  });
}

/**
 * Resolves once `cond` holds or `ms` pass (the transport's stop sequence: acks, `<enable/>`'s answer).
 * `cond` is checked now and each time the listener given to `subscribe` is called; `subscribe`
 * returns its own undo, which runs when the wait ends either way. No polling: the caller names
 * the events that can change `cond`.
 */
export function whenTrue(cond: () => boolean, subscribe: (changed: () => void) => () => void, ms: number): Promise<void> {
  if (cond()) return Promise.resolve();
  return new Promise((resolve) => {
    let unsubscribe: (() => void) | undefined;
    let ended = false;
    const end = (): void => {
      ended = true;
      clearTimeout(timer);
      unsubscribe?.();
      resolve();
    };
    const timer = setTimeout(end, ms);
    unsubscribe = subscribe(() => {
      if (!ended && cond()) end();
    });
    if (ended) unsubscribe(); // the listener ran (and ended the wait) while subscribing
  });
}
