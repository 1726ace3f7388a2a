/** Handler failures caused by an overloaded send path, logged once per interval with a count instead of one line per stanza. */
import type { Logger } from "../logger.ts";
import { LogEvery } from "../xmpp/log-every.ts";

/**
 * Errors of a send refused under overload (the transport's outbox, its size limit, a stopped
 * transport, the plugins' throttle), matched by name so the core needs no plugin import.
 */
const SEND_REFUSED: ReadonlySet<string> = new Set(["OutboxFullError", "StanzaTooLargeError", "TransportStoppedError", "ThrottleFullError"]);

/** How often at most the refusal line is written. */
export const REFUSED_LOG_EVERY_MS = 10_000;

/** True when `error` is a send refused under overload (not a bug in the handler). */
export function isSendRefused(error: unknown): boolean {
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === "string" && SEND_REFUSED.has(name);
}

/** Counts handler failures on refused sends; the first of each interval writes one warning with the count. */
export class SendRefusals {
  #last = "";
  readonly #every: LogEvery;
  constructor(log: Logger, now?: () => number) {
    this.#every = new LogEvery({
      intervalMs: REFUSED_LOG_EVERY_MS,
      now,
      write: (count) =>
        log.warn("replies refused by the outbox or throttle (overloaded); those handlers failed", { count, error: this.#last, intervalMs: REFUSED_LOG_EVERY_MS }),
    });
  }

  /** Take `error` if it is a refused send (counted, logged at most once per interval): true; else false. */
  take(error: unknown): boolean {
    if (!isSendRefused(error)) return false;
    this.#last = `${(error as Error).name}: ${(error as Error).message}`;
    this.#every.hit();
    return true;
  }

  /** Write what was counted and not yet written (on stop). */
  flush(): void {
    this.#every.flush();
  }
}
