// Per-account leases with a generation (fencing) number: acquire (INCR, then SET NX PX), batch renew and release by compare-then-act scripts, self-fencing on a monotonic clock.
import { performance } from "node:perf_hooks";
import { FleetKeys } from "./keys.ts";
import type { FleetRedis } from "./redis.ts";
import { ACQUIRE, RECLAIM, RELEASE, RENEW } from "./scripts.ts";

/** Leases renewed per script call. */
const RENEW_BATCH = 300;
/** A lease is trusted locally for this fraction of its TTL after the last renewal that succeeded was *sent*. */
export const FENCE_FRACTION = 2 / 3;

/** A lease this worker holds. */
export interface HeldLease {
  jid: string;
  /** The value in Redis: `<worker>:<epoch>:<generation>`. */
  value: string;
  generation: number;
  /** Monotonic time (ms) until which the lease may be acted on: last successful renewal sent + 2/3 TTL. */
  trustedUntil: number;
}

/** Options of `LeaseTable`. */
export interface LeaseTableOptions {
  redis: FleetRedis;
  keys: FleetKeys;
  /** `<worker>:<epoch>`: the epoch is new for each process, so a restarted worker never mistakes an old lease for its own. */
  holder: string;
  ttlMs: number;
  /** Monotonic clock in ms; default `performance.now`. */
  now?: () => number;
}

/** The leases one worker holds, and the scripts that take, keep and give them back. */
export class LeaseTable {
  readonly #o: LeaseTableOptions;
  readonly #now: () => number;
  readonly #held = new Map<string, HeldLease>();
  /** Round trip of the last batch renewal (ms). */
  lastRenewMs = 0;

  constructor(o: LeaseTableOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => performance.now());
  }

  get size(): number {
    return this.#held.size;
  }
  /** The lease on `jid`, if held. */
  get(jid: string): HeldLease | undefined {
    return this.#held.get(jid);
  }
  /** JIDs of the held leases. */
  jids(): string[] {
    return [...this.#held.keys()];
  }

  /** Take the lease on `jid` if nobody holds it; the held lease, or undefined. */
  async acquire(jid: string): Promise<HeldLease | undefined> {
    const sent = this.#now();
    const value = (await this.#o.redis.eval(ACQUIRE, 2, this.#o.keys.lease(jid), this.#o.keys.generation(jid), this.#o.holder, this.#o.ttlMs)) as string | null;
    if (!value) return undefined;
    const lease: HeldLease = { jid, value, generation: Number(value.slice(value.lastIndexOf(":") + 1)), trustedUntil: sent + this.#o.ttlMs * FENCE_FRACTION };
    this.#held.set(jid, lease);
    return lease;
  }

  /**
   * Extend every held lease. Returns the JIDs whose lease was lost (someone else's value or none):
   * they are forgotten at once and must be stopped without a goodbye that could touch the new owner.
   * A failed call (Redis down) throws and leaves `trustedUntil` where it was.
   */
  async renewAll(): Promise<string[]> {
    const sent = this.#now();
    const leases = [...this.#held.values()];
    const lost: string[] = [];
    for (let i = 0; i < leases.length; i += RENEW_BATCH) {
      const batch = leases.slice(i, i + RENEW_BATCH);
      const res = (await this.#o.redis.eval(RENEW, batch.length, ...batch.map((l) => this.#o.keys.lease(l.jid)), this.#o.ttlMs, ...batch.map((l) => l.value))) as number[];
      batch.forEach((l, j) => {
        if (this.#held.get(l.jid) !== l) return; // released meanwhile
        if (res[j] === 1) l.trustedUntil = Math.max(l.trustedUntil, sent + this.#o.ttlMs * FENCE_FRACTION);
        else {
          this.#held.delete(l.jid);
          lost.push(l.jid);
        }
      });
    }
    this.lastRenewMs = this.#now() - sent;
    return lost;
  }

  /**
   * After Redis lost its data (a restart without persistence): put back every lease still trusted
   * here, unless someone else took it meanwhile (those are returned as lost).
   */
  async reclaimAll(): Promise<string[]> {
    const lost: string[] = [];
    for (const l of [...this.#held.values()]) {
      if (!this.trusted(l.jid)) continue;
      const ok = await this.#o.redis.eval(RECLAIM, 2, this.#o.keys.lease(l.jid), this.#o.keys.generation(l.jid), l.value, l.generation, this.#o.ttlMs);
      if (Number(ok) !== 1 && this.#held.get(l.jid) === l) {
        this.#held.delete(l.jid);
        lost.push(l.jid);
      }
    }
    return lost;
  }

  /** Leases no longer trusted (no renewal got through in time): forgotten and returned; their sessions must stop now. */
  expired(): string[] {
    const now = this.#now();
    const out: string[] = [];
    for (const l of this.#held.values()) {
      if (now >= l.trustedUntil) {
        this.#held.delete(l.jid);
        out.push(l.jid);
      }
    }
    return out;
  }

  /** True while the lease on `jid` is held and trusted. */
  trusted(jid: string): boolean {
    const l = this.#held.get(jid);
    return l !== undefined && this.#now() < l.trustedUntil;
  }

  /** Give the lease back (compare-and-delete: only if it is still ours). Best effort; never throws. */
  async release(jid: string): Promise<void> {
    const l = this.#held.get(jid);
    if (!l) return;
    this.#held.delete(jid);
    await this.#o.redis.eval(RELEASE, 1, this.#o.keys.lease(jid), l.value).catch(() => undefined);
  }

  /** Forget a lease without touching Redis (it was lost). */
  forget(jid: string): void {
    this.#held.delete(jid);
  }

  /**
   * Whether the lease on `jid` is still ours (a conflict or a reconnect re-checks before acting): Redis
   * holds our value. If Redis cannot be asked, a lease still trusted here is ours: nobody else can
   * hold it before our trust runs out (self-fencing stops us first).
   */
  async stillOurs(jid: string): Promise<boolean> {
    const l = this.#held.get(jid);
    if (!l || !this.trusted(jid)) return false;
    let value: string | null;
    try {
      value = await this.#o.redis.get(this.#o.keys.lease(jid));
    } catch {
      return this.trusted(jid) && this.#held.get(jid) === l;
    }
    return value === l.value;
  }
}
