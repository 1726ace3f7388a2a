/**
 * The outbox: every `send()` lands here first (p-queue, one write at a time, original order kept).
 * It runs only while online and holds stanzas while offline.
 *
 * Overflow policy (`XMPP_OUTBOX_LIMIT`, `XMPP_OUTBOX_OVERFLOW`), never a silent drop:
 * - `reject` (default): `push()` rejects with `OutboxFullError` and a warning is logged.
 * - `block`: `push()` waits until there is room (back-pressure on the caller).
 *
 * Delivery: a stanza whose write fails goes back to its original place in the queue. With XEP-0198
 * the transport also puts back stanzas the server never acknowledged when resumption fails
 * (`requeue`). Without XEP-0198 a stanza counts as delivered once written to the socket (at most once).
 */
import PQueue from "p-queue";
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
  readonly #q = new PQueue({ concurrency: 1, autoStart: false });
  #seq = 0;
  #closed = false;
  constructor(private readonly opts: OutboxOptions) {}

  /** Stanzas waiting or being written. */
  get depth(): number {
    return this.#q.size + this.#q.pending;
  }

  /** Accept a stanza (see the overflow policy). Resolves once it is queued, not once it is sent. */
  async push(el: Element): Promise<void> {
    if (this.#closed) throw new TransportStoppedError();
    while (this.depth >= this.opts.limit) {
      if (this.opts.overflow === "reject") {
        this.opts.logger.warn("outbox full, stanza rejected", { limit: this.opts.limit });
        throw new OutboxFullError(this.opts.limit);
      }
      await this.#q.onSizeLessThan(Math.max(1, this.opts.limit - this.#q.pending));
      if (this.#closed) throw new TransportStoppedError();
    }
    (el as Tagged)[SEQ] = ++this.#seq;
    this.#enqueue(el as Tagged);
  }

  /** Put a stanza back at its original position (after a failed write or a failed SM resumption). */
  requeue(el: Element): void {
    const t = el as Tagged;
    t[SEQ] ??= ++this.#seq;
    this.#enqueue(t);
  }

  #enqueue(el: Tagged): void {
    const seq = el[SEQ]!;
    this.#q
      .add(
        async () => {
          try {
            await this.opts.write(el);
          } catch (err) {
            this.#q.pause();
            this.opts.logger.debug("write failed, stanza kept for the next connection", { error: (err as Error).message });
            this.#enqueue(el);
          }
        },
        { priority: -seq },
      )
      .catch(() => {});
  }

  /** Start writing (we are online). */
  resume(): void {
    this.#q.start();
  }

  /** Hold stanzas (we are offline). The stanza being written, if any, finishes or is requeued. */
  pause(): void {
    this.#q.pause();
  }

  /** Stop accepting stanzas. */
  close(): void {
    this.#closed = true;
  }

  /** Resolve true once everything queued was written, false after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.depth === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    const idle = this.#q.onIdle().then(() => true);
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Forget everything still queued; returns how many stanzas were dropped (the caller logs it). */
  clear(): number {
    const n = this.#q.size;
    this.#q.clear();
    return n;
  }
}
