// A fleet worker: membership, per-account leases, rendezvous assignment with revoke-before-assign, self-fencing, conflict handling and a SIGTERM hand-off of every account at once.
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { TypedEmitter, type Bot, type Logger } from "@botrun/core";
import { AccountStore } from "./accounts.ts";
import { AccountSession, type SessionEnd } from "./account-session.ts";
import { LeaseTable } from "./leases.ts";
import { LoginLimit } from "./login-limit.ts";
import { Membership } from "./membership.ts";
import { ownerOf } from "./rendezvous.ts";
import type { FleetRedis } from "./redis.ts";
import type { SecretBox } from "./secret-box.ts";
import { SET_STATE } from "./scripts.ts";
import type { FleetStatus } from "./http.ts";

/** Options of `FleetWorker`. */
export interface FleetWorkerOptions {
  bot: Bot;
  /** Shared settings of every account (environment and .env files). */
  env: NodeJS.ProcessEnv;
  redis: FleetRedis;
  box: SecretBox;
  workerId: string;
  logger: Logger;
  /** Lease and membership TTL; default 8 s. Rounds run every TTL/4, the fence check every TTL/10. */
  ttlMs?: number;
  /** Logins started per second across the fleet; default 20. */
  loginsPerSecond?: number;
  /** Accounts being brought online at once by this worker; default 50. */
  maxStarting?: number;
  /** When a refresh in flight on a silent worker counts as abandoned (ms); default 300 s. */
  refreshAbandonMs?: number;
}

/** What a worker reports (logs, metrics, tests). */
export type FleetWorkerEvents = {
  online: { jid: string; generation: number };
  released: { jid: string; why: string };
  dropped: { jid: string; why: string };
};

/** A cool-down after a conflict or a failed start before the account is tried again here. */
const COOL_DOWN_ROUNDS = 8;

/** One worker of a bot's fleet. */
export class FleetWorker extends TypedEmitter<FleetWorkerEvents> {
  readonly id: string;
  readonly #o: FleetWorkerOptions;
  readonly #ttl: number;
  readonly #log: Logger;
  readonly #accounts: AccountStore;
  readonly #members: Membership;
  readonly #leases: LeaseTable;
  readonly #limit: LoginLimit;
  readonly #sessions = new Map<string, AccountSession>();
  readonly #starting = new Set<string>();
  /** Hand-offs under way (session closing, lease released after). */
  readonly #handingOff = new Map<string, Promise<void>>();
  /** Account → monotonic time before which it is not started here again. */
  readonly #cool = new Map<string, number>();
  /** Accounts this worker stopped for consent: started again as soon as they are runnable (`botrun auth --account`), cool-down or not. */
  readonly #awaitingConsent = new Map<string, boolean>(); // → seen in the consent set by a round since
  #round: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #fenceTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  #runId: string | undefined;
  /** No takeovers before this monotonic time (one TTL after Redis came back empty). */
  #noTakeoverUntil = 0;
  #redisDown = false;
  /** Counters for logs, metrics and tests. */
  readonly stats = { takeovers: 0, handoffs: 0, fenced: 0, lost: 0, conflicts: 0, consent: 0, handled: 0, sent: 0, refreshes: 0, refresh_waits: 0, refresh_takeovers: 0, refresh_unsent: 0 };

  constructor(o: FleetWorkerOptions) {
    super();
    this.#o = o;
    this.id = o.workerId;
    this.#ttl = o.ttlMs ?? 8000;
    this.#log = o.logger.child({ component: "fleet", worker: o.workerId });
    this.#accounts = new AccountStore(o.redis, o.box, o.bot.name);
    const keys = this.#accounts.keys;
    this.#members = new Membership(o.redis, keys, o.workerId, this.#ttl);
    this.#leases = new LeaseTable({ redis: o.redis, keys, holder: `${o.workerId}:${randomBytes(4).toString("hex")}`, ttlMs: this.#ttl });
    this.#limit = new LoginLimit(o.redis, keys, o.loginsPerSecond ?? 20);
  }

  /** Accounts online here. */
  get owned(): number {
    return this.#sessions.size;
  }
  /** What the health and metrics endpoint shows. */
  status(): FleetStatus {
    return { worker: this.id, owned: this.#sessions.size, leases: this.#leases.size, renewLatencyMs: this.#leases.lastRenewMs, redisUp: !this.#redisDown && this.#runId !== undefined, counters: this.stats };
  }

  /** Join the fleet and start taking accounts; resolves after the first round. */
  async start(): Promise<void> {
    await this.#members.heartbeat();
    this.#log.info("worker joined the fleet", { ttlMs: this.#ttl });
    this.#fenceTimer = setInterval(() => this.#fence(), Math.max(50, this.#ttl / 10));
    // One round's wait: workers started together see each other before anyone takes accounts.
    await new Promise((r) => setTimeout(r, this.#ttl / 4));
    await this.#tick();
    if (this.#stopping) return;
    this.#timer = setInterval(() => void this.#tick(), Math.max(100, this.#ttl / 4));
  }

  /** Hand every account off at once: leave the membership, stop every session, release every lease. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearInterval(this.#timer);
      await this.#round?.catch(() => undefined);
      await this.#members.leave().catch(() => undefined);
      const jids = [...new Set([...this.#sessions.keys(), ...this.#leases.jids()])];
      this.#log.info("handing off every account", { accounts: jids.length });
      await Promise.all(jids.map((jid) => this.#handoff(jid, "worker stopping")));
      clearInterval(this.#fenceTimer);
    })();
    return this.#stopping;
  }

  #tick(): Promise<void> {
    if (this.#round || this.#stopping) return this.#round ?? Promise.resolve();
    this.#round = this.#doRound().finally(() => (this.#round = undefined));
    return this.#round;
  }

  async #doRound(): Promise<void> {
    try {
      await this.#checkRestart();
      await this.#members.heartbeat({ owned: this.#sessions.size });
      for (const jid of await this.#leases.renewAll()) this.#drop(jid, "lease lost");
      if (this.#redisDown) this.#log.info("redis reachable again");
      this.#redisDown = false;
      if (!this.#stopping) await this.#rebalance();
    } catch (err) {
      if (!this.#redisDown) this.#log.warn("redis unavailable; sessions stay up while their leases are trusted", { error: (err as Error).message });
      this.#redisDown = true;
      // A command that timed out is still queued for a reply that may never come (a black-holed
      // link): later replies would be matched to the wrong commands. Start over on a new socket.
      if (/timed out/i.test((err as Error).message)) this.#o.redis.disconnect(true);
    }
    this.#fence();
  }

  /** A new Redis run id means Redis lost its keys: put our leases back and take nothing over for one TTL. */
  async #checkRestart(): Promise<void> {
    const info = await this.#o.redis.info("server");
    const runId = /run_id:(\w+)/.exec(info)?.[1];
    if (this.#runId && runId && runId !== this.#runId) {
      this.#noTakeoverUntil = performance.now() + this.#ttl;
      this.#log.warn("redis restarted; reclaiming our leases, no takeovers for one TTL", { ttlMs: this.#ttl });
      for (const jid of await this.#leases.reclaimAll()) this.#drop(jid, "lease taken while redis restarted");
    }
    this.#runId = runId;
  }

  /** Self-fencing: a lease with no renewal through within 2/3 TTL is dropped before Redis can give it to anyone else. */
  #fence(): void {
    for (const jid of this.#leases.expired()) {
      this.stats.fenced++;
      this.#drop(jid, "self-fenced: no lease renewal got through in time");
    }
  }

  async #rebalance(): Promise<void> {
    const live = await this.#members.live();
    if (!live.includes(this.id)) live.push(this.id);
    const mine = new Set((await this.#accounts.runnable()).filter((j) => ownerOf(j, live) === this.id));
    // Revoke before assign: what is no longer ours is handed off; the new owner takes it once the lease is gone.
    const revoke = [...new Set([...this.#leases.jids(), ...this.#sessions.keys()])].filter((j) => !mine.has(j));
    // Not awaited: a round must not hold up the next renewal while sessions close (the leases being
    // handed off are renewed meanwhile; waiting here could let every other lease self-fence).
    for (const j of revoke) void this.#handoff(j, "assigned to another worker");
    const now = performance.now();
    for (const [jid, until] of this.#cool) if (until <= now) this.#cool.delete(jid);
    for (const [jid, seen] of this.#awaitingConsent) {
      if (!mine.has(jid)) this.#awaitingConsent.set(jid, true); // in the consent set (or not ours now)
      if (!mine.has(jid) || !seen) continue;
      this.#awaitingConsent.delete(jid);
      this.#cool.delete(jid);
      this.#log.info("account has consent again; starting it", { account: jid });
    }
    const max = this.#o.maxStarting ?? 50;
    for (const jid of mine) {
      if (this.#starting.size >= max) break;
      if (this.#sessions.has(jid) || this.#starting.has(jid) || this.#handingOff.has(jid) || (this.#cool.get(jid) ?? 0) > now) continue;
      if (!this.#leases.get(jid) && now < this.#noTakeoverUntil) continue;
      void this.#takeover(jid);
    }
  }

  async #takeover(jid: string): Promise<void> {
    this.#starting.add(jid);
    let built: AccountSession | undefined;
    try {
      const lease = this.#leases.get(jid) ?? (await this.#leases.acquire(jid));
      if (!lease) return; // still held by its previous owner: it releases after stopping (revoke before assign)
      const creds = await this.#accounts.credentials(jid);
      if (!creds || this.#stopping) return void (await this.#leases.release(jid));
      const session: AccountSession = new AccountSession({
        bot: this.#o.bot,
        env: this.#o.env,
        creds,
        redis: this.#o.redis,
        keys: this.#accounts.keys,
        box: this.#o.box,
        logger: this.#o.logger,
        drainTimeoutMs: Math.round(this.#ttl / 3),
        lease: () => {
          const l = this.#leases.get(jid);
          return l && { value: l.value, trusted: this.#leases.trusted(jid) };
        },
        ...(this.#o.refreshAbandonMs !== undefined && { refreshAbandonMs: this.#o.refreshAbandonMs }),
        refreshCounters: this.stats,
        beforeLogin: (): Promise<boolean> => this.#beforeLogin(jid, session),
        onEnd: (end) => void this.#ended(jid, session, end),
      });
      built = session;
      this.#sessions.set(jid, session);
      this.stats.takeovers++;
      session.runtime.on("handled", () => this.stats.handled++);
      session.runtime.on("sent", () => this.stats.sent++);
      await session.start();
      if (this.#sessions.get(jid) !== session) return;
      this.#log.info("account online", { account: jid, generation: lease.generation });
      this.emit("online", { jid, generation: lease.generation });
    } catch (err) {
      // Refused at the first login (exit code 3: grant or password rejected): stopped for consent, as when it happens later.
      const exitCode = (err as { exitCode?: unknown }).exitCode;
      if (built && exitCode === 3 && this.#sessions.get(jid) === built) await this.#ended(jid, built, { kind: "fatal", exitCode, message: (err as Error).message });
      else if (this.#sessions.has(jid)) {
        this.#log.warn("account failed to start; cooling down", { account: jid, error: (err as Error).message });
        this.#cool.set(jid, performance.now() + this.#ttl * 2);
        await this.#handoff(jid, "start failed");
      } else this.#log.debug("takeover abandoned", { account: jid, error: (err as Error).message });
    } finally {
      this.#starting.delete(jid);
    }
  }

  /** Every login (reconnects included) re-checks the lease, then waits for a fleet-wide login slot. */
  async #beforeLogin(jid: string, session: AccountSession): Promise<boolean> {
    if (this.#sessions.get(jid) !== session || this.#stopping) return false;
    if (!(await this.#leases.stillOurs(jid))) {
      this.#drop(jid, "lease not ours at login");
      return false;
    }
    await this.#limit.take();
    return this.#sessions.get(jid) === session && this.#leases.trusted(jid);
  }

  async #ended(jid: string, session: AccountSession, end: SessionEnd): Promise<void> {
    if (this.#sessions.get(jid) !== session) return;
    this.#sessions.delete(jid);
    this.#cool.set(jid, performance.now() + (this.#ttl / 4) * COOL_DOWN_ROUNDS);
    if (end.kind === "conflict") {
      this.stats.conflicts++;
      // Never a blind reconnect: someone else logged in with this account. Re-check the lease.
      const ours = await this.#leases.stillOurs(jid);
      this.#log.warn("session replaced by another login (conflict); not reconnecting", { account: jid, leaseStillOurs: ours });
      if (!ours) this.#leases.forget(jid);
      return;
    }
    if (end.exitCode === 3) {
      this.stats.consent++;
      const lease = this.#leases.get(jid);
      const reason = session.endpoint ? "consent revoked or expired: import a new refresh token" : "password rejected: import the account again";
      this.#awaitingConsent.set(jid, false);
      if (lease) await this.#o.redis.eval(SET_STATE, 3, this.#accounts.keys.lease(jid), this.#accounts.keys.account(jid), this.#accounts.keys.consent, lease.value, "consent", reason, jid).catch(() => undefined);
      this.#log.error("account needs consent again; stopped (the others keep running)", { account: jid });
    } else this.#log.error("account stopped", { account: jid, exitCode: end.exitCode, error: end.message });
    await session.stop().catch(() => undefined);
    await this.#leases.release(jid);
    this.emit("released", { jid, why: end.kind });
  }

  /** Stop the session, then release the lease (renewals keep it ours while the session closes). One at a time per account. */
  #handoff(jid: string, why: string): Promise<void> {
    const running = this.#handingOff.get(jid);
    if (running) return running;
    const done = (async () => {
      const s = this.#sessions.get(jid);
      this.#sessions.delete(jid);
      await s?.stop();
      await this.#leases.release(jid);
      this.stats.handoffs++;
      this.#log.info("account handed off", { account: jid, why });
      this.emit("released", { jid, why });
    })().finally(() => this.#handingOff.delete(jid));
    this.#handingOff.set(jid, done);
    return done;
  }

  /** Lost or untrusted lease: forget it and stop the session at once, without releasing. */
  #drop(jid: string, why: string): void {
    const s = this.#sessions.get(jid);
    this.#sessions.delete(jid);
    this.#leases.forget(jid);
    this.stats.lost++;
    if (s) this.#log.warn("account dropped", { account: jid, why });
    void s?.stop();
    this.emit("dropped", { jid, why });
  }
}
