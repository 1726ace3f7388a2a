/** A log line for a repeating condition, written at most once per interval with the count it stands for. */

/** Options of `LogEvery`. */
export interface LogEveryOptions {
  intervalMs: number;
  /** Write the line: `count` occurrences since the last line (including this one). */
  write(count: number): void;
  now?: () => number;
}

/** Counts occurrences; the first one of each interval writes a line carrying the count (no timers). */
export class LogEvery {
  readonly #o: LogEveryOptions;
  #last = -Infinity;
  #count = 0;
  constructor(o: LogEveryOptions) {
    this.#o = o;
  }

  /** One occurrence: written at once if the interval has passed since the last line, else counted. */
  hit(): void {
    this.#count++;
    const now = (this.#o.now ?? Date.now)();
    if (now - this.#last < this.#o.intervalMs) return;
    this.#last = now;
    this.flush();
  }

  /** Write what was counted and not yet written (e.g. when stopping). */
  flush(): void {
    if (this.#count === 0) return;
    const n = this.#count;
    this.#count = 0;
    this.#o.write(n);
  }
}
