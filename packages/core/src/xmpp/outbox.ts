/**
 * The outbox: every `send()` lands here first. One write at a time, original order kept; it writes
 * only while online and holds stanzas while offline. When online with nothing queued or being
 * written, a stanza is written at once (no queue round trip on the echo path).
 *
 * Overflow policy (`XMPP_OUTBOX_LIMIT`, `XMPP_OUTBOX_OVERFLOW`), never a silent drop:
 * - `reject` (default): `push()` rejects with `OutboxFullError` and a warning is logged.
 * - `block`: `push()` waits until there is room (back-pressure on the caller).
 *
 * Delivery: a stanza whose write fails goes back to its original place in the queue and the
 * outbox pauses until `resume()`. With XEP-0198 the transport also puts back stanzas the server
 * never acknowledged when resumption fails (`requeue`). Without XEP-0198 a stanza counts as
 * delivered once written to the socket (at most once).
 */
import type { Element } from "@xmpp/xml";
import type { Logger } from "../logger.ts";
import { OutboxFullError, TransportStoppedError } from "./errors.ts";
import type { OutboxOverflow } from "../config/config.ts";

/** Options of `Outbox`. */
export interface OutboxOptions {
  limit: number;
  overflow: OutboxOverflow;
  /** Write one stanza to the live connection; rejects if it could not be written. */
  write(el: Element): Promise<void>;
  logger: Logger;
}

const SEQ = Symbol("botrun.outbox.seq");
type Tagged = Element & { [SEQ]?: number };

/** A bounded, pausable, order-keeping send queue. */
export class Outbox {
  /** Held stanzas, ascending by sequence number. */
  #queue: Tagged[] = [];
  /** The stanza being written, if any. */
  #writing: Tagged | undefined;
  #running = false;
  #seq = 0;
  #closed = false;
  /** Called whenever a write settles or the queue shrinks (drain and block waiters). */
  readonly #waiters = new Set<() => void>();
  readonly #opts: OutboxOptions;
  readonly #onWritten = (): void => this.#written();
  readonly #onWriteFailed = (err: unknown): void => this.#writeFailed(err);

  constructor(opts: OutboxOptions) {
    this.#opts = opts;
  }

  /** Stanzas waiting or being written. */
  get depth(): number {
    return this.#queue.length + (this.#writing ? 1 : 0);
  }

  /** Accept a stanza (see the overflow policy). Resolves once it is queued, not once it is sent. */
  async push(el: Element): Promise<void> {
    if (this.#closed) throw new TransportStoppedError();
    while (this.depth >= this.#opts.limit) {
      if (this.#opts.overflow === "reject") {
        this.#opts.logger.warn("outbox full, stanza rejected", { limit: this.#opts.limit });
        throw new OutboxFullError(this.#opts.limit);
      }
      await this.#changed();
      if (this.#closed) throw new TransportStoppedError();
    }
    const t = el as Tagged;
    t[SEQ] = ++this.#seq;
    if (this.#running && !this.#writing && this.#queue.length === 0) this.#start(t);
    else this.#queue.push(t);
  }

  /** Put a stanza back at its original position (after a failed write or a failed SM resumption). */
  requeue(el: Element): void {
    const t = el as Tagged;
    t[SEQ] ??= ++this.#seq;
    this.#insert(t);
    this.#next();
  }

  /** Start writing (we are online). */
  resume(): void {
    this.#running = true;
    this.#next();
  }

  /** Hold stanzas (we are offline). The stanza being written, if any, finishes or is requeued. */
  pause(): void {
    this.#running = false;
  }

  /** Stop accepting stanzas. */
  close(): void {
    this.#closed = true;
    this.#notify();
  }

  /** Resolve true once everything queued was written, false after `timeoutMs`. */
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

  /** Forget everything still queued; returns how many stanzas were dropped (the caller logs it). */
  clear(): number {
    const n = this.#queue.length;
    this.#queue = [];
    this.#notify();
    return n;
  }

  #start(el: Tagged): void {
    this.#writing = el;
    let p: Promise<void>;
    try {
      p = this.#opts.write(el);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(this.#onWritten, this.#onWriteFailed);
  }

  #written(): void {
    this.#writing = undefined;
    this.#next();
    this.#notify();
  }

  #writeFailed(err: unknown): void {
    const el = this.#writing!;
    this.#writing = undefined;
    this.#running = false;
    this.#opts.logger.debug("write failed, stanza kept for the next connection", { error: (err as Error)?.message });
    this.#insert(el);
    this.#notify();
  }

  #next(): void {
    if (this.#running && !this.#writing && this.#queue.length > 0) this.#start(this.#queue.shift()!);
  }

  #insert(el: Tagged): void {
    const seq = el[SEQ]!;
    const q = this.#queue;
    let i = q.length;
    while (i > 0 && q[i - 1]![SEQ]! > seq) i--;
    q.splice(i, 0, el);
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.add(resolve));
  }

  #notify(): void {
    if (this.#waiters.size === 0) return;
    const ws = [...this.#waiters];
    this.#waiters.clear();
    for (const w of ws) w();
  }
}
