// Refreshes across workers without ever sending one refresh token twice: an in-flight mark in the account's record (no TTL), a last check on the monotonic clock right before the request is written, and the rotated token stored by compare-and-set even after the lease was lost.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { PermanentAuthError, TransientAuthError, type EndpointRequestOptions, type TokenEndpoint, type TokenSet } from "@botrun/core";
import type { FleetKeys } from "./keys.ts";
import type { FleetRedis } from "./redis.ts";
import { SPEND, UNSPEND } from "./scripts.ts";
import type { SpendGate } from "./spend-gate.ts";
import { holderDead, newMarkId } from "./holder.ts";
import { fingerprint, type FleetTokenStore } from "./token-store.ts";

/** Options of `SingleFlightEndpoint`. */
export interface SingleFlightOptions {
  redis: FleetRedis;
  keys: FleetKeys;
  jid: string;
  store: FleetTokenStore;
  inner: TokenEndpoint;
  /** The gate `inner` fetches through (`SpendGate.fetch`): the last check before the bytes are written. */
  gate?: SpendGate;
  /** This worker's lease on the account (value, and whether the monotonic self-fence still trusts it); unset: not fenced (tests). */
  lease?: () => { value: string; trusted: boolean } | undefined;
  /** An in-flight mark older than this (Redis' clock) counts as abandoned: its holder died mid-request. Default 300 s. */
  abandonMs?: number;
  /** The longest a token-endpoint request may take (the provider's request timeout); default 15 s. */
  requestTimeoutMs?: number;
  /** How long a sibling waits for another spend's outcome within one call (without a signal); default 10 s. */
  waitMs?: number;
  /** Epoch clock (token expiry); default `Date.now`. */
  now?: () => number;
  /** Counters shared by every account of a worker (its metrics), incremented beside `stats`. */
  counters?: Record<RefreshCounter, number>;
}

/** The refresh counters a worker exposes. */
export type RefreshCounter = "refreshes" | "refresh_waits" | "refresh_takeovers" | "refresh_unsent";

/** An access token still this far from expiry may be adopted from a sibling instead of refreshing. */
const ADOPT_MIN_VALIDITY_MS = 5000;
/** Slack between the last moment a request may be written and the moment its mark can be called abandoned. */
const SEND_SLACK_MS = 1000;
/** Default of `abandonMs`. */
export const DEFAULT_ABANDON_MS = 300_000;

/**
 * A `TokenEndpoint` that spends each stored refresh token at most once across all workers.
 *
 * 1. Re-read the record; adopt what a sibling already rotated (a newer refresh token and a good access token).
 * 2. SPEND (one script): only the lease holder, only on the version it read, and only if no other
 *    spend of the same refresh token is in flight, writes the mark `<id>|<fingerprint>|<redis ms>`
 *    into the record. The mark has no TTL: a paused holder that wakes up still owns the outcome.
 *    Siblings that find it wait and adopt; they never send that refresh token.
 * 3. Right before the request bytes are written (`SpendGate`, after connect and TLS), the holder
 *    checks on its monotonic clock that its mark is younger than `abandonMs − requestTimeout − 1 s`
 *    and that its lease is still trusted; otherwise nothing is sent and the mark is cleared.
 * 4. A rotated token is stored while the mark is still ours (not on the version: a sibling may have
 *    saved the token we spent meanwhile), lease or no lease (the holder has the only copy), which clears the mark. An answer without a new token (an error
 *    status) or a request never written clears the mark; no answer (timeout, reset) leaves it.
 *
 * If the holder never comes back (kill -9 mid-request, a host gone), the next owner spends the same
 * refresh token again: at once when the holder ran on the same machine (same pid namespace) and its
 * process is gone (`holder.ts`: pid and start time), else once the mark is older than `abandonMs`.
 * That is the residual risk: a reuse happens only if the holder's request reached the server and
 * the holder is dead (its rotated token died with it, so on a strict server the grant is lost,
 * reuse or not), or if it was paused longer than `abandonMs` (default 5 min) on another machine
 * and wakes to find its compare-and-set refused. A pause between the gate's check and the kernel's write of
 * the same tick is the other window, measured in microseconds. Meanwhile the account keeps its
 * stored access token and goes offline only when that expires.
 */
export class SingleFlightEndpoint implements TokenEndpoint {
  readonly #o: SingleFlightOptions;
  readonly #now: () => number;
  /** Requests sent, adoptions, marks found in flight (waits), marks taken over (abandoned; of a dead holder), requests the gate refused. */
  readonly stats = { calls: 0, adopted: 0, waited: 0, abandoned: 0, deadHolder: 0, refused: 0 };

  constructor(o: SingleFlightOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  async refresh(refreshToken: string, opts: EndpointRequestOptions = {}): Promise<TokenSet> {
    const { redis, keys, jid, store } = this.#o;
    const markId = newMarkId();
    let dead = ""; // a mark whose holder process is gone for sure
    const waitUntil = performance.now() + (this.#o.waitMs ?? 10_000);
    for (;;) {
      if (opts.signal?.aborted) throw new TransientAuthError(`refresh of ${jid} aborted`, "aborted");
      const stored = await store.load();
      const version = store.version;
      const adopted = this.#adoptable(stored, refreshToken);
      if (adopted) return adopted;
      const current = stored?.refreshToken ?? refreshToken;
      const lease = this.#o.lease?.();
      if (this.#o.lease && !lease?.trusted) throw new TransientAuthError(`this worker no longer holds ${jid}; not refreshing`, "not_owner");
      const markedAt = performance.now(); // before SPEND is sent: the mark's age is at least what we count
      const [res, age, mark] = (await redis.eval(SPEND, 2, keys.account(jid), keys.lease(jid), version, markId, fingerprint(current), lease?.value ?? "", this.#abandonMs(), dead)) as [number, number?, string?];
      if (res === -2) continue; // the record moved between the read and the mark: read again
      if (res === -3) throw new TransientAuthError(`account ${jid} was removed from the fleet`, "account_removed");
      if (res === -4) throw new TransientAuthError(`this worker no longer holds ${jid}; not refreshing`, "not_owner");
      if (res === -1) {
        // Its holder ran on this machine and its process is gone (kill -9, a crash): it can never
        // store an outcome, so waiting longer gains nothing. Take that exact mark over.
        if (mark && holderDead(mark.slice(0, mark.indexOf("|")))) {
          dead = mark;
          continue;
        }
        this.stats.waited++;
        this.#count("refresh_waits");
        if (performance.now() > waitUntil) throw new TransientAuthError(`another worker's refresh of ${jid} is in flight (${Math.round((age ?? 0) / 1000)} s); waiting for its outcome`, "in_flight");
        await sleep(200);
        continue;
      }
      if (res === 2) this.stats.abandoned++;
      if (res === 3) this.stats.deadHolder++;
      if (res === 2 || res === 3) this.#count("refresh_takeovers");
      return this.#spend(current, markId, markedAt, opts);
    }
  }

  async #spend(current: string, markId: string, markedAt: number, opts: EndpointRequestOptions): Promise<TokenSet> {
    const { redis, keys, jid, store, gate } = this.#o;
    const budget = this.#abandonMs() - (this.#o.requestTimeoutMs ?? 15_000) - SEND_SLACK_MS;
    const leaseValue = this.#o.lease?.()?.value;
    gate?.arm(() => {
      if (performance.now() - markedAt >= budget) return false;
      if (!this.#o.lease) return true;
      const l = this.#o.lease();
      return l?.trusted === true && l.value === leaseValue;
    });
    const unspend = () => redis.eval(UNSPEND, 1, keys.account(jid), markId).catch(() => undefined);
    let got: TokenSet;
    try {
      this.stats.calls++;
      this.#count("refreshes");
      got = await this.#o.inner.refresh(current, opts);
    } catch (err) {
      const phase = gate?.phase;
      const answered = err instanceof PermanentAuthError || (err instanceof TransientAuthError && err.details.status !== undefined);
      if (phase === "refused") {
        this.stats.refused++;
        this.#count("refresh_unsent");
      }
      // Unknown outcome (written, no answer): the mark stays; nobody sends this token before it is abandoned.
      if (!(answered || phase === "refused" || phase === "idle")) {
        throw new TransientAuthError(`refresh of ${jid} got no answer; its refresh token is not sent again for ${Math.round(this.#abandonMs() / 1000)} s`, "outcome_unknown");
      }
      await unspend();
      if (phase === "refused") throw new TransientAuthError(`refresh of ${jid} not sent: this worker may no longer spend its refresh token (mark too old or lease not trusted)`, "not_sent");
      if (err instanceof PermanentAuthError) {
        const again = await store.load().catch(() => undefined);
        if (again?.refreshToken && again.refreshToken !== current) return this.#adopt(again);
      }
      throw err;
    }
    const next: TokenSet = { ...got, refreshToken: got.refreshToken ?? current };
    try {
      // While our mark stands, ours are the newest tokens, whatever else moved the record's version
      // meanwhile (a sibling saving the token we spent, as it adopted it): stored, mark cleared.
      await store.writeSpent(next, markId);
    } catch (err) {
      // Our mark is gone (a new consent replaced the grant, or it was abandoned and taken over): theirs win, the caller re-reads.
      if (err instanceof TransientAuthError && (err.code === "conflict" || err.code === "account_removed")) throw err;
      // Redis unreachable: the provider keeps the new tokens in memory and saves them again (the
      // mark stays until then, so nobody sends the old token meanwhile).
    }
    return next;
  }

  #count(c: RefreshCounter): void {
    if (this.#o.counters) this.#o.counters[c]++;
  }

  #abandonMs(): number {
    return this.#o.abandonMs ?? DEFAULT_ABANDON_MS;
  }

  /** Tokens a sibling stored after rotating `used`, if their access token is still good. */
  #adoptable(stored: TokenSet | undefined, used: string): TokenSet | undefined {
    if (!stored?.refreshToken || stored.refreshToken === used || !stored.accessToken) return undefined;
    if (stored.expiresAt !== undefined && stored.expiresAt < this.#now() + ADOPT_MIN_VALIDITY_MS) return undefined;
    return this.#adopt(stored);
  }

  #adopt(stored: TokenSet): TokenSet {
    this.stats.adopted++;
    return stored;
  }
}
