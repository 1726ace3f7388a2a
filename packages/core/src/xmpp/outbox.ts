/**
 * The outbox: every `send()` lands here first. It writes only while online, holds stanzas while
 * offline (a paused p-queue ordered by sequence number) and sends them after reconnect, in their
 * original order. Writes are pipelined: up to `window` queued stanzas may be on their way to the
 * socket at once (socket writes keep their order). When online with nothing held or being
 * written, a stanza is written at once, skipping the queue (the echo path).
 *
 * Overflow policy (`XMPP_OUTBOX_LIMIT`, `XMPP_OUTBOX_OVERFLOW`), never a silent drop:
 * - `reject` (default): `push()` rejects with `OutboxFullError` (a one-line error, no stack) and a
 *   warning with the count of rejections is logged at most once per 10 s (not once per stanza).
 * - `block`: `push()` waits until there is room (back-pressure on the caller).
 * Before either applies, the transport slows its intake (`onDepth` feeds its `IntakeGate`).
 *
 * Delivery: a stanza whose write fails goes back to its original place (by sequence number) and
 * the outbox pauses until `resume()`; writes already under way on the dead socket fail too and
 * go back the same way. With XEP-0198 the transport also puts back stanzas the server never
 * acknowledged when resumption fails (`requeue`). Without XEP-0198 a stanza counts as delivered
 * once written to the socket (at most once).
 */
import type { Element } from "@xmpp/xml";
import PQueue from "p-queue";
import type { Logger } from "../logger.ts";
import { OutboxFullError, TransportStoppedError } from "./errors.ts";
import type { OutboxOverflow } from "../config/config.ts";
import { LogEvery } from "./log-every.ts";

/** Options of `Outbox`. */
export interface OutboxOptions {
  limit: number;
  overflow: OutboxOverflow;
  /** Write one stanza to the live connection; rejects if it could not be written. */
  write(el: Element): Promise<void>;
  logger: Logger;
  /** Stanzas that may be written but not yet confirmed written at once (default 32). */
  window?: number;
  /** Told the depth after every change (the transport's intake back-pressure). */
  onDepth?(depth: number): void;
}

const SEQ = Symbol("botrun.outbox.seq");
type Tagged = Element & { [SEQ]?: number };

/** A bounded, pausable, order-keeping send queue. */
export class Outbox {
  readonly #opts: OutboxOptions;
  /** Held and queued writes; priority = -sequence, so lower sequence numbers go first. */
  readonly #queue: PQueue;
  /** Writes started on the fast path and not yet settled (0 or 1). */
  #direct = 0;
  #online = false;
  #seq = 0;
  #closed = false;
  /** `push()` calls rejected with `OutboxFullError` (a metric). */
  rejected = 0;
  readonly #fullLog: LogEvery;
  /** Called whenever a write settles or the queue shrinks (drain and block waiters). */
  readonly #waiters = new Set<() => void>();
  readonly #onDirectWritten = (): void => {
    this.#direct--;
    this.#notify();
  };

  constructor(opts: OutboxOptions) {
    this.#opts = opts;
    this.#queue = new PQueue({ concurrency: opts.window ?? 32, autoStart: false });
    // "next" fires after p-queue has updated its counts: wake drain and block waiters then.
    this.#queue.on("next", () => this.#notify());
    this.#fullLog = new LogEvery({
      intervalMs: 10_000,
      write: (n) => opts.logger.warn("outbox full: stanzas rejected with OutboxFullError", { limit: opts.limit, rejected: n }),
    });
  }

  /** Stanzas waiting or being written. */
  get depth(): number {
    return this.#queue.size + this.#queue.pending + this.#direct;
  }

  /** Accept a stanza (see the overflow policy). Resolves once it is queued, not once it is sent. */
  async push(el: Element): Promise<void> {
    if (this.#closed) throw new TransportStoppedError();
    while (this.depth >= this.#opts.limit) {
      if (this.#opts.overflow === "reject") {
        this.rejected++;
        this.#fullLog.hit();
        const e = new OutboxFullError(this.#opts.limit);
        e.stack = `${e.name}: ${e.message}`; // one line wherever it is logged: the stack says nothing here
        throw e;
      }
      await this.#changed();
      if (this.#closed) throw new TransportStoppedError();
    }
    const t = el as Tagged;
    t[SEQ] = ++this.#seq;
    if (this.#online && this.#direct === 0 && this.#queue.size === 0 && this.#queue.pending === 0) this.#writeDirect(t);
    else this.#enqueue(t);
    this.#opts.onDepth?.(this.depth);
  }

  /** Put back a stanza that was written but never acknowledged (failed XEP-0198 resumption). */
  requeue(el: Element): void {
    const t = el as Tagged;
    t[SEQ] ??= ++this.#seq;
    this.#enqueue(t);
  }

  /** Start (or restart) writing: the connection is online. */
  resume(): void {
    this.#online = true;
    this.#queue.start();
  }

  /** Stop writing: the connection is gone. */
  pause(): void {
    this.#online = false;
    this.#queue.pause();
  }

  /** Refuse further pushes (stopping). Held stanzas stay until `clear()`. */
  close(): void {
    this.#closed = true;
    this.#fullLog.flush();
    this.#notify();
  }

  /** Wait until everything is written, at most `timeoutMs`. Resolves true if empty. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.depth === 0) return true;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(() => r(void (timedOut = true)), timeoutMs)));
    try {
      while (this.depth > 0 && !timedOut) await Promise.race([this.#changed(), timeout]);
      return this.depth === 0;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drop every held stanza; returns how many (the caller logs them: never silent). */
  clear(): number {
    const n = this.#queue.size;
    this.#queue.clear();
    this.#notify();
    return n;
  }

  #writeDirect(el: Tagged): void {
    this.#direct++;
    let p: Promise<void>;
    try {
      p = this.#opts.write(el);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(this.#onDirectWritten, (err: unknown) => {
      this.#direct--;
      this.#failed(el, err);
    });
  }

  #enqueue(el: Tagged): void {
    void this.#queue.add(
      async () => {
        try {
          await this.#opts.write(el);
        } catch (err) {
          this.#failed(el, err);
        }
      },
      { priority: -el[SEQ]! },
    );
  }

  #failed(el: Tagged, err: unknown): void {
    this.#online = false;
    this.#queue.pause();
    this.#opts.logger.debug("write failed, stanza kept for the next connection", { error: (err as Error)?.message });
    this.#enqueue(el);
    this.#notify();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.add(resolve));
  }

  #notify(): void {
    this.#opts.onDepth?.(this.depth);
    if (this.#waiters.size === 0) return;
    const ws = [...this.#waiters];
    this.#waiters.clear();
    for (const w of ws) w();
  }
}
