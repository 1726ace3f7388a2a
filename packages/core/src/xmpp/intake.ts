/**
 * Back-pressure on inbound traffic: when the outbox passes its high-water mark (replies pile up
 * faster than the server takes them), the transport stops reading the socket, so TCP flow control
 * holds further stanzas at the server (they are neither delivered nor acknowledged); once the
 * outbox is down to the low-water mark, reading resumes. Replies already promised are not dropped.
 *
 * A pause is re-checked every `checkMs`: while the outbox drains the link is alive (`onProgress`
 * keeps dead-link detection quiet); if it does not drain, reading resumes anyway so the server's
 * acks and ping replies get through (no deadlock with a server that waits for us to read), and
 * the next inbound stanza pauses again. Overload is logged once per interval, not per stanza.
 *
 * A second reason to pause is the runtime's backlog (`setPressure`, from `Transport.setInboundPressure`):
 * too many stanzas received and not yet handled, or replies held in plugins (the throttle). The
 * socket is not read while either reason holds. A backlog pause is not ended by the stall rule
 * (the server is not the slow side; the runtime logs it) and keeps dead-link detection quiet
 * (`onProgress` on each check) until the backlog is down to its low-water mark.
 */
import type { Logger } from "../logger.ts";
import { LogEvery } from "./log-every.ts";

/** Options of `IntakeGate`. */
export interface IntakeGateOptions {
  /** Pause at or above this outbox depth. */
  high: number;
  /** Resume at or below this outbox depth. */
  low: number;
  /** How often a pause is re-checked for progress, ms. */
  checkMs: number;
  /** The outbox depth now. */
  depth(): number;
  /** Restart (true) or stop (false) reading the current socket. */
  setReading(reading: boolean): void;
  /** False while there is no session to pause (offline): `inbound()` pauses the next one if needed. */
  canPause?(): boolean;
  /** The outbox drained while paused: the link is alive. */
  onProgress?(): void;
  logger: Logger;
  /** Overload lines at most this often, ms (default 10 s). */
  logIntervalMs?: number;
}

/** Watermarks with hysteresis over the outbox depth, and the runtime's backlog pressure, driving socket reads. */
export class IntakeGate {
  readonly #o: IntakeGateOptions;
  #over = false;
  /** The runtime's backlog is over its high-water mark (`setPressure`). */
  #pressure = false;
  #paused = false;
  #timer: NodeJS.Timeout | undefined;
  #lastDepth = 0;
  /** Pauses since start (a metric). */
  pauses = 0;
  readonly #overloadLog: LogEvery;
  readonly #stallLog: LogEvery;

  constructor(o: IntakeGateOptions) {
    this.#o = o;
    const intervalMs = o.logIntervalMs ?? 10_000;
    this.#overloadLog = new LogEvery({
      intervalMs,
      write: (n) =>
        o.logger.warn("overloaded: replies wait faster than the server takes them; not reading from the server until the outbox drains", {
          outbox: o.depth(),
          highWater: o.high,
          lowWater: o.low,
          pauses: n,
        }),
    });
    this.#stallLog = new LogEvery({
      intervalMs,
      write: (n) => o.logger.warn("outbox not draining while intake paused; reading again to let acks and pings through", { outbox: o.depth(), times: n }),
    });
  }

  /** True while the socket is not read. */
  get paused(): boolean {
    return this.#paused;
  }

  /** The outbox depth changed. */
  update(depth: number): void {
    if (!this.#over && depth >= this.#o.high) {
      this.#over = true;
      this.#pause();
    } else if (this.#over && depth <= this.#o.low) {
      this.#over = false;
      if (this.#paused && !this.#pressure) this.#resume("outbox drained", { outbox: depth });
    }
  }

  /** The runtime's backlog is over its high-water mark (true) or down to its low-water mark (false). */
  setPressure(on: boolean): void {
    if (on === this.#pressure) return;
    this.#pressure = on;
    if (on) this.#pause();
    else if (this.#paused && !this.#over) this.#resume("backlog handled", {});
  }

  /** An inbound stanza arrived (online): pause again if still over a high-water mark. */
  inbound(): void {
    if ((this.#over || this.#pressure) && !this.#paused) this.#pause();
  }

  /** The socket is gone: nothing to resume on it. A new socket starts reading; `inbound()` pauses it if needed. */
  reset(): void {
    this.#clear();
  }

  /** Write any pending overload counts (stopping). */
  flush(): void {
    this.#clear();
    this.#overloadLog.flush();
    this.#stallLog.flush();
  }

  #pause(): void {
    if (this.#paused || this.#o.canPause?.() === false) return;
    this.#paused = true;
    this.pauses++;
    this.#o.setReading(false);
    if (this.#over) this.#overloadLog.hit(); // a backlog pause is logged by the runtime
    this.#lastDepth = this.#o.depth();
    this.#arm();
  }

  #arm(): void {
    this.#timer = setTimeout(() => this.#check(), this.#o.checkMs);
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    if (!this.#paused) return;
    const d = this.#o.depth();
    if (this.#pressure) {
      this.#lastDepth = d;
      this.#o.onProgress?.();
      return this.#arm();
    }
    if (d < this.#lastDepth) {
      this.#lastDepth = d;
      this.#o.onProgress?.();
      return this.#arm();
    }
    this.#paused = false;
    this.#o.setReading(true);
    this.#stallLog.hit();
  }

  #resume(why: string, data: Record<string, unknown>): void {
    this.#clear();
    this.#o.setReading(true);
    this.#o.logger.debug(`${why}; reading from the server again`, data);
  }

  #clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#paused = false;
  }
}

/** Stop or restart reading an xmpp.js socket: a `net.Socket`, or our TLS wrapper around one. */
export function setSocketReading(socket: unknown, reading: boolean): void {
  type Readable = { pause(): unknown; resume(): unknown };
  const s = socket as (Partial<Readable> & { socket?: Readable | null }) | null | undefined;
  const target: Readable | null | undefined = typeof s?.pause === "function" ? (s as Readable) : s?.socket;
  if (reading) target?.resume();
  else target?.pause();
}
