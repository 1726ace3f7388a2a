// The notes bot's reminders: every user's pending reminders, scheduled with the scheduler plugin and
// kept in storage (files when NOTES_DIR is set): one entry per user, plus an index of the users who
// have some, so adding a reminder rewrites that user's short list (and the index only for a user's
// first one), never everybody's. At most `maxPerUser` pending reminders per user (default 100).
// On start the stored ones are scheduled again, so reminders survive a restart; one that came due
// while the bot was down is sent as soon as it is online. A reminder is forgotten once it was sent.
import { KeyedSequencer, type Plugin } from "@botrun/core";
import type { Scheduler, StorageAdapter } from "@botrun/plugins";

/** One pending reminder. */
export interface Reminder {
  id: number;
  /** Whose it is (the session key of the user who asked). */
  user: string;
  /** Where to send it, and how. */
  to: string;
  type: "chat" | "groupchat";
  text: string;
  /** When, in ms since the epoch. */
  due: number;
}

/** The stored shapes: a user's reminders, the index of users, and the old single list (read once, migrated). */
type Stored = Reminder[] | string[];
const INDEX = "reminders-index";
const LEGACY = "reminders";
const userKey = (user: string) => `reminders:${user}`;

/** Thrown by `add` when the user has `maxPerUser` pending reminders. */
export class TooManyRemindersError extends Error {
  constructor(readonly max: number) {
    super(`at most ${max} pending reminders per user`);
    this.name = "TooManyRemindersError";
  }
}

/** Pending reminders of every user, persisted per user. */
export class ReminderBook {
  readonly #storage: StorageAdapter<Stored>;
  readonly #sched: Scheduler;
  readonly #max: number;
  readonly #writes = new KeyedSequencer();
  readonly #byUser = new Map<string, Reminder[]>();
  /** Users in the stored index (updated before each index write, which writes it as it is then). */
  readonly #indexed = new Set<string>();
  readonly #pending = new Set<Promise<unknown>>();
  #nextId = 1;

  constructor(storage: StorageAdapter<Stored>, sched: Scheduler, opts: { maxPerUser?: number } = {}) {
    this.#storage = storage;
    this.#sched = sched;
    this.#max = opts.maxPerUser ?? 100;
  }

  /** The most pending reminders one user may have. */
  get maxPerUser(): number {
    return this.#max;
  }

  /** The plugin that loads and schedules stored reminders on start and waits for pending writes on stop. */
  readonly plugin: Plugin = {
    name: "reminders",
    start: async (host) => {
      await this.#load();
      let count = 0;
      for (const list of this.#byUser.values()) for (const r of list) (this.#schedule(r), count++);
      if (count) host.log.info("reminders rescheduled", { count, users: this.#byUser.size });
    },
    stop: async () => {
      while (this.#pending.size) await Promise.allSettled([...this.#pending]);
    },
  };

  /** Add a reminder, store it, then schedule it. Rejects (and keeps nothing) when storing failed or the user is at the cap. */
  async add(r: Omit<Reminder, "id">): Promise<Reminder> {
    const list = this.#byUser.get(r.user) ?? [];
    if (list.length >= this.#max) throw new TooManyRemindersError(this.#max);
    const full = { ...r, id: this.#nextId++ };
    const next = [...list, full];
    await this.#saveUser(r.user, next, list.length === 0);
    this.#byUser.set(r.user, next);
    this.#schedule(full);
    return full;
  }

  /** A user's pending reminders, soonest first. */
  forUser(user: string): Reminder[] {
    return [...(this.#byUser.get(user) ?? [])].sort((a, b) => a.due - b.due);
  }

  #schedule(r: Reminder): void {
    this.#sched.at(new Date(r.due), `remind:${r.id}`, async (job) => {
      await job.say(r.to, `⏰ Reminder: ${r.text}`, r.type);
      const rest = (this.#byUser.get(r.user) ?? []).filter((x) => x.id !== r.id);
      if (rest.length) this.#byUser.set(r.user, rest);
      else this.#byUser.delete(r.user);
      await this.#saveUser(r.user, rest, rest.length === 0);
    });
  }

  /** Write one user's list (deleting it when empty); the index too when the user appears or disappears. */
  #saveUser(user: string, list: Reminder[], indexChanges: boolean): Promise<void> {
    const p = (async () => {
      await this.#writes.run(userKey(user), async () => {
        if (list.length) await this.#storage.write(userKey(user), list);
        else await this.#storage.delete(userKey(user));
      });
      if (!indexChanges) return;
      if (list.length) this.#indexed.add(user);
      else this.#indexed.delete(user);
      await this.#writes.run(INDEX, () => Promise.resolve(this.#storage.write(INDEX, [...this.#indexed])));
    })();
    this.#pending.add(p);
    void p.then(
      () => this.#pending.delete(p),
      () => this.#pending.delete(p),
    );
    return p;
  }

  async #load(): Promise<void> {
    const users = ((await this.#storage.read(INDEX)) ?? []).filter((u): u is string => typeof u === "string");
    for (const user of users) {
      const list = ((await this.#storage.read(userKey(user))) ?? []).filter(isReminder);
      if (list.length) this.#byUser.set(user, list);
    }
    const legacy = ((await this.#storage.read(LEGACY)) ?? []).filter(isReminder);
    for (const r of legacy) this.#byUser.set(r.user, [...(this.#byUser.get(r.user) ?? []), r]);
    for (const user of this.#byUser.keys()) this.#indexed.add(user);
    let maxId = 0;
    for (const list of this.#byUser.values()) for (const r of list) maxId = Math.max(maxId, r.id);
    this.#nextId = maxId + 1;
    if (legacy.length) {
      // The old layout kept everyone's reminders in one entry: write them per user, then drop it.
      for (const [user, list] of this.#byUser) await this.#storage.write(userKey(user), list);
      await this.#storage.write(INDEX, [...this.#indexed]);
      await this.#storage.delete(LEGACY);
    }
  }
}

function isReminder(v: unknown): v is Reminder {
  const r = v as Reminder;
  return typeof r === "object" && r !== null && typeof r.id === "number" && typeof r.user === "string" && typeof r.to === "string" && typeof r.text === "string" && typeof r.due === "number";
}
