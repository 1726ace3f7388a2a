/**
 * The outbox: every `send()` lands here first, and the outbox alone writes stanzas to the wire. It
 * is given a `Wire` when a session can take stanzas (`attach`) and writes to nothing otherwise;
 * stanzas wait in sequence order and go out in that order. Writes are pipelined: up to `window`
 * may be on their way to the socket at once (socket writes keep their order). With nothing
 * waiting, a stanza is written at once (the echo path: no queueing, one promise per write).
 *
 * Overflow policy (`XMPP_OUTBOX_LIMIT`, `XMPP_OUTBOX_OVERFLOW`), never a silent drop:
 * - `reject` (default): `push()` rejects with `OutboxFullError` (a one-line error, no stack) and a
 *   warning with the count of rejections is logged at most once per 10 s (not once per stanza).
 * - `block`: `push()` waits until there is room (back-pressure on the caller).
 * Before either applies, the transport slows its intake (`onDepth` feeds its `IntakeGate`).
 *
 * Delivery: a stanza whose write fails goes back to its place (by sequence number) and the outbox
 * stops using that wire; the next `attach` writes it again. XEP-0198 hands back stanzas the server
 * never acknowledged on a lost session through `Returns` (stream-management.ts). Without XEP-0198
 * a stanza counts as delivered once written to the socket (at most once).
 */
import type { Element } from "@xmpp/xml";
import type { Logger } from "../logger.ts";
import { OutboxFullError, TransportStoppedError } from "./errors.ts";
import type { OutboxOverflow } from "../config/config.ts";
import { LogEvery } from "./log-every.ts";

/** What the outbox writes to: one session's connection. A rejected write means the wire is gone. */
export interface Wire {
  write(el: Element): Promise<void>;
}

/** The narrow way back into the outbox: stanzas written but never acknowledged, to be written again first. */
export interface Returns {
  takeBack(stanzas: readonly Element[]): void;
}

/** Options of `Outbox`. */
export interface OutboxOptions {
  limit: number;
  overflow: OutboxOverflow;
  logger: Logger;
  /** Stanzas that may be written but not yet confirmed written at once (default 32). */
  window?: number;
  /** Told the depth after every change (the transport's intake back-pressure). */
  onDepth?(depth: number): void;
}

const SEQ = Symbol("botrun.outbox.seq");
/** What `push()` returns once a stanza is queued: one settled promise for all (callers only wait on it). */
const QUEUED: Promise<void> = Promise.resolve();
type Tagged = Element & { [SEQ]?: number };

/** A bounded, order-keeping send queue that owns writing to the wire. */
export class Outbox implements Returns {
  readonly #o: OutboxOptions;
  readonly #window: number;
  /** Waiting stanzas from `#head` on, in sequence order. */
  #waiting: Tagged[] = [];
  #head = 0;
  #inFlight = 0;
  #wire: Wire | undefined;
  #seq = 0;
  #closed = false;
  /** `push()` calls rejected with `OutboxFullError` (a metric). */
  rejected = 0;
  readonly #fullLog: LogEvery;
  /** Called whenever a write settles or the queue shrinks (drain and block waiters). */
  readonly #waiters = new Set<() => void>();

  constructor(o: OutboxOptions) {
    this.#o = o;
    this.#window = (o.window ?? 32) + 1; // the window of queued writes, plus the one written at once when idle
    this.#fullLog = new LogEvery({
      intervalMs: 10_000,
      write: (n) => o.logger.warn("outbox full: stanzas rejected with OutboxFullError", { limit: o.limit, rejected: n }),
    });
  }

  /** Stanzas waiting or being written. */
  get depth(): number {
    return this.#waiting.length - this.#head + this.#inFlight;
  }

  /** Accept a stanza (see the overflow policy). Resolves once it is queued, not once it is sent. */
  push(el: Element): Promise<void> {
    if (this.#closed) return Promise.reject(new TransportStoppedError());
    if (this.depth >= this.#o.limit) return this.#full(el);
    const t = el as Tagged;
    t[SEQ] = ++this.#seq;
    const wire = this.#wire;
    if (wire && this.#head === this.#waiting.length && this.#inFlight < this.#window) this.#write(t, wire);
    else this.#waiting.push(t);
    this.#o.onDepth?.(this.depth);
    return QUEUED;
  }

  /** Stanzas written but never acknowledged (a lost XEP-0198 session): written again before the rest. */
  takeBack(stanzas: readonly Element[]): void {
    for (const el of stanzas) {
      const t = el as Tagged;
      t[SEQ] ??= ++this.#seq; // one the outbox never saw goes after those it holds
      this.#insert(t);
    }
    this.#pump();
    this.#notify();
  }

  /** A session can take stanzas: write to `wire` until it fails or `detach()`. */
  attach(wire: Wire): void {
    this.#wire = wire;
    this.#pump();
  }

  /** No session: write nothing until the next `attach`. */
  detach(): void {
    this.#wire = undefined;
  }

  /** Refuse further pushes (stopping). Waiting stanzas stay until `clear()`. */
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

  /** Drop every waiting stanza; returns how many (the caller logs them: never silent). */
  clear(): number {
    const n = this.#waiting.length - this.#head;
    this.#waiting = [];
    this.#head = 0;
    this.#notify();
    return n;
  }

  async #full(el: Element): Promise<void> {
    while (this.depth >= this.#o.limit) {
      if (this.#o.overflow === "reject") {
        this.rejected++;
        this.#fullLog.hit();
        const e = new OutboxFullError(this.#o.limit);
        e.stack = `${e.name}: ${e.message}`; // one line wherever it is logged: the stack says nothing here
        throw e;
      }
      await this.#changed();
      if (this.#closed) throw new TransportStoppedError();
    }
    return this.push(el);
  }

  #pump(): void {
    const wire = this.#wire;
    while (wire && this.#wire === wire && this.#inFlight < this.#window && this.#head < this.#waiting.length) {
      const el = this.#waiting[this.#head++]!;
      if (this.#head === this.#waiting.length) {
        this.#waiting = [];
        this.#head = 0;
      }
      this.#write(el, wire);
    }
  }

  #write(el: Tagged, wire: Wire): void {
    this.#inFlight++;
    let p: Promise<void>;
    try {
      p = wire.write(el);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(this.#written, this.#failed(el, wire));
  }

  /** A write completed (one handler for all writes). */
  readonly #written = (): void => {
    this.#inFlight--;
    this.#pump();
    this.#notify();
  };

  /** The handler of one write's failure (a returned closure: tsx names no anonymous function). */
  #failed(el: Tagged, wire: Wire): (err: unknown) => void {
    return (err: unknown) => {
      this.#inFlight--;
      if (this.#wire === wire) this.#wire = undefined;
      this.#o.logger.debug("write failed, stanza kept for the next connection", { error: (err as Error)?.message });
      this.#insert(el);
      this.#pump(); // a newer wire (if one is attached) takes it
      this.#notify();
    };
  }

  /** Put `el` back at its place by sequence number. */
  #insert(el: Tagged): void {
    const q = this.#waiting;
    const s = el[SEQ]!;
    let lo = this.#head;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (q[mid]![SEQ]! < s) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, el);
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.add(resolve));
  }

  #notify(): void {
    this.#o.onDepth?.(this.depth);
    if (this.#waiters.size === 0) return;
    const ws = [...this.#waiters];
    this.#waiters.clear();
    for (const w of ws) w();
  }
}
