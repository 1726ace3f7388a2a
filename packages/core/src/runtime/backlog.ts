/**
 * The runtime's inbound backlog and its bound: counts stanzas received and not yet finished
 * (queued behind their chat, running, or still running after the handler timeout) and, added to
 * it, what plugins hold back (`Plugin.queued()`: the throttle's replies). Past the high-water mark
 * the transport is asked to stop reading (`Transport.setInboundPressure`); at the low-water mark
 * it reads again. A transport that cannot pause gets a hard cap instead: past it new stanzas are
 * refused. Overload and refusals are logged once per interval, not per stanza.
 */
import type { Logger } from "../logger.ts";
import { LogEvery } from "../xmpp/log-every.ts";

/** Options of `Backlog`. */
export interface BacklogOptions {
  /** Ask the transport to pause at or above this pressure (backlog + held). */
  high: number;
  /** Resume at or below this pressure. */
  low: number;
  /** Without `setPressure`: refuse stanzas while the backlog is at or above this. */
  hardCap: number;
  /** Stanzas plugins hold back (sum of `queued()`), part of the pressure. */
  held(): number;
  /** The transport's pause switch, if it has one. */
  setPressure: ((paused: boolean) => void) | undefined;
  logger: Logger;
  /** Overload lines at most this often, ms (default 10 s). */
  logIntervalMs?: number;
  /** While paused, the pressure is sampled this often (held replies drain on their own), ms (default 25). */
  sampleMs?: number;
}

/** Counts the backlog and drives the transport's intake from it. */
export class Backlog {
  readonly #o: BacklogOptions;
  /** Stanzas received and not yet finished. */
  count = 0;
  /** Stanzas refused at the hard cap (a transport that cannot pause). */
  refused = 0;
  /** True while the transport was asked to stop reading. */
  paused = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #overloadLog: LogEvery;
  readonly #refuseLog: LogEvery;

  constructor(o: BacklogOptions) {
    this.#o = o;
    const intervalMs = o.logIntervalMs ?? 10_000;
    this.#overloadLog = new LogEvery({
      intervalMs,
      write: (n) =>
        o.logger.warn(
          o.setPressure
            ? "overloaded: stanzas arrive faster than the bot handles them; not reading from the server until the backlog is down"
            : "overloaded: stanzas arrive faster than the bot handles them; this transport cannot pause, stanzas past the hard cap are refused",
          { backlog: this.count, held: o.held(), highWater: o.high, lowWater: o.low, hardCap: o.setPressure ? undefined : o.hardCap, pauses: n },
        ),
    });
    this.#refuseLog = new LogEvery({
      intervalMs,
      write: (n) => o.logger.warn("backlog at its hard cap: stanzas refused, not handled", { refused: n, backlog: this.count, hardCap: o.hardCap }),
    });
  }

  /** A stanza enters the pipeline: false if it is refused (hard cap reached, the transport cannot pause). */
  admit(): boolean {
    if (!this.#o.setPressure && this.count >= this.#o.hardCap) {
      this.refused++;
      this.#refuseLog.hit();
      return false;
    }
    this.count++;
    this.sample();
    return true;
  }

  /** A stanza's pipeline really finished (also one that outlived the handler timeout). */
  done(): void {
    this.count--;
    this.sample();
  }

  /** Compare the pressure with the watermarks; pause or resume the transport on a crossing. */
  sample(): void {
    if (!this.paused) {
      if (this.count + this.#o.held() < this.#o.high) return;
      this.paused = true;
      this.#overloadLog.hit();
      this.#set(true);
      this.#timer = setInterval(() => this.sample(), this.#o.sampleMs ?? 25);
      this.#timer.unref();
    } else if (this.count + this.#o.held() <= this.#o.low) {
      this.paused = false;
      this.#stopTimer();
      this.#o.logger.debug("backlog handled; reading again", { backlog: this.count });
      this.#set(false);
    }
  }

  /** Stop sampling and write pending log counts (the runtime stopped). */
  close(): void {
    this.#stopTimer();
    this.#overloadLog.flush();
    this.#refuseLog.flush();
  }

  #set(paused: boolean): void {
    try {
      this.#o.setPressure?.(paused);
    } catch (error) {
      this.#o.logger.error("transport setInboundPressure failed", { error });
    }
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
