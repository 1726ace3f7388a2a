/**
 * The handler timeout without a timer per stanza: every running pipeline is an entry in one list,
 * in start order (so in deadline order: the timeout is the same for all), and one timer is armed
 * for the oldest entry's deadline. A pipeline that finishes unlinks its entry in O(1); the timer
 * is not touched then (it fires later, finds nothing due, and is armed for the new oldest entry),
 * so the hot path does no timer work at all.
 */

/** One watched pipeline. */
interface Entry {
  readonly deadline: number;
  release: () => void;
  readonly onTimeout: (arg: unknown) => void;
  /** What `onTimeout` is called with (no closure per pipeline). */
  readonly arg: unknown;
  prev: Entry | undefined;
  next: Entry | undefined;
  /** False once finished or timed out (unlinked). */
  linked: boolean;
}

/** Releases waiters of pipelines that run longer than `timeoutMs`, with one timer. */
export class HandlerWatchdog {
  readonly #timeoutMs: number;
  #head: Entry | undefined;
  #tail: Entry | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  readonly #fire = (): void => this.#expire();

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /**
   * A promise that settles when `work` settles or `timeoutMs` after now, whichever is first;
   * `onTimeout` runs in the second case (once). `work` keeps running either way.
   */
  watch<A>(work: Promise<unknown>, onTimeout: (arg: A) => void, arg?: A): Promise<void> {
    // No named closures here (tsx's keepNames would wrap each in a defineProperty call per stanza).
    const entry: Entry = { deadline: performance.now() + this.#timeoutMs, release: noop, onTimeout: onTimeout as (arg: unknown) => void, arg, prev: this.#tail, next: undefined, linked: true };
    const released = new Promise<void>((resolve) => (entry.release = resolve));
    if (this.#tail) this.#tail.next = entry;
    else this.#head = entry;
    this.#tail = entry;
    if (this.#timer === undefined) this.#arm(entry.deadline);
    const finish = this.#finishing(entry);
    work.then(finish, finish);
    return released;
  }

  /** One settle handler for both outcomes of a watched pipeline. */
  #finishing(entry: Entry): () => void {
    return () => this.#finish(entry);
  }

  #finish(entry: Entry): void {
    if (!entry.linked) return;
    this.#unlink(entry);
    entry.release();
  }

  /** Pipelines being watched. */
  get size(): number {
    let n = 0;
    for (let e = this.#head; e; e = e.next) n++;
    return n;
  }

  /** Stop the timer (entries stay; their pipelines still release them when they end). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #arm(at: number): void {
    this.#timerAt = at;
    this.#timer = setTimeout(this.#fire, Math.max(0, at - performance.now()));
    this.#timer.unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    while (this.#head && this.#head.deadline <= now) {
      const e = this.#head;
      this.#unlink(e);
      e.release();
      try {
        e.onTimeout(e.arg);
      } catch {
        // The runtime's callback only logs; a failing logger must not stop the others' release.
      }
    }
    if (this.#head && this.#head.deadline < this.#timerAt) this.#arm(this.#head.deadline);
  }

  #unlink(e: Entry): void {
    e.linked = false;
    if (e.prev) e.prev.next = e.next;
    else this.#head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.#tail = e.prev;
    e.prev = e.next = undefined;
  }
}

const noop = (): void => {};
