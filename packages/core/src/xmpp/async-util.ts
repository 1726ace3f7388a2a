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

/** Polls `cond` every 20 ms until it holds or `ms` pass (the transport's stop sequence). */
export async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}
