/**
 * The process side of stopping `botrun`: the stop budget (a deadline after which the process
 * exits whatever is still running), the exit once every bot has stopped (work left in queues is
 * abandoned, not run against a closed connection for minutes), and a log gate that, while
 * stopping, prints each distinct message once and counts the repeats (no line per stanza).
 */
import type { LogFields, Logger } from "../logger.ts";

/** How long the process may linger once every bot has stopped and everything was closed. */
export const EXIT_GRACE_MS = 250;
/** Slack added to the stop budget for the plugin stops and the closing of stores and the HTTP endpoint. */
export const STOP_SLACK_MS = 3000;

/**
 * While `closing`, log lines are collapsed: the first line of each level and message is written,
 * later ones only counted; `summary()` writes one line per collapsed message.
 */
export class StopLogGate {
  #closing = false;
  readonly #counts = new Map<string, { level: "info" | "warn" | "error"; msg: string; n: number }>();

  /** From now on, repeated lines are counted instead of written. */
  close(): void {
    this.#closing = true;
  }

  /** A logger that writes through `inner` and obeys the gate; children obey it too. */
  wrap(inner: Logger): Logger {
    const gated =
      (level: "info" | "warn" | "error") =>
      (msg: string, fields?: LogFields): void => {
        if (this.#closing) {
          const key = `${level}\u0000${msg}`;
          const seen = this.#counts.get(key);
          if (seen) {
            seen.n++;
            return;
          }
          this.#counts.set(key, { level, msg, n: 0 });
        }
        inner[level](msg, fields);
      };
    return {
      trace: (m, f) => inner.trace(m, f),
      debug: (m, f) => inner.debug(m, f),
      info: gated("info"),
      warn: gated("warn"),
      error: gated("error"),
      child: (fields) => this.wrap(inner.child(fields)),
    };
  }

  /** Write one line per message that was repeated while stopping, with how often. */
  summary(log: Logger): void {
    for (const { level, msg, n } of this.#counts.values()) {
      if (n > 0) log[level]("repeated while stopping (not logged again)", { message: msg, times: n });
    }
    this.#counts.clear();
  }
}

/** A one-shot deadline for the whole stop: `fire` runs once when `ms` passed since `arm()`. */
export class StopDeadline {
  #timer: ReturnType<typeof setTimeout> | undefined;
  constructor(
    readonly ms: number,
    private readonly fire: () => void,
  ) {}

  /** Start the clock (later calls do nothing). The timer does not keep the process alive. */
  arm(): void {
    if (this.#timer || this.ms <= 0) return;
    this.#timer = setTimeout(this.fire, this.ms);
    this.#timer.unref();
  }

  disarm(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * Once every bot has stopped: if something still keeps the event loop alive after
 * `EXIT_GRACE_MS` (work abandoned in a queue, a connection a plugin left open), exit with `code`
 * anyway, saying what was left in one line. The timer itself does not keep the process alive.
 */
export function exitWhenIdle(code: number, log: Logger, exit: (code: number) => void = process.exit): void {
  setTimeout(() => {
    const left = process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap");
    log.info("exiting: work still pending after the stop is abandoned", { resources: summarize(left) });
    exit(code);
  }, EXIT_GRACE_MS).unref();
}

function summarize(names: string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([n, c]) => (c > 1 ? `${n}×${c}` : n)).join(", ");
}
