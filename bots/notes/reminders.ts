// The notes bot's reminders: every user's pending reminders, kept in one storage entry (a file
// when NOTES_DIR is set) and scheduled with the scheduler plugin. On start the stored ones are
// scheduled again, so reminders survive a restart; one that came due while the bot was down is
// sent as soon as it is online. A reminder is forgotten once it was sent (at least once).
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

const KEY = "reminders";

/** Pending reminders of every user, persisted as a whole under one storage key. */
export class ReminderBook {
  readonly #storage: StorageAdapter<Reminder[]>;
  readonly #sched: Scheduler;
  readonly #writes = new KeyedSequencer();
  #list: Reminder[] = [];
  #nextId = 1;

  constructor(storage: StorageAdapter<Reminder[]>, sched: Scheduler) {
    this.#storage = storage;
    this.#sched = sched;
  }

  /** The plugin that loads and schedules stored reminders on start and waits for pending writes on stop. */
  readonly plugin: Plugin = {
    name: "reminders",
    start: async (host) => {
      const stored = (await this.#storage.read(KEY)) ?? [];
      this.#list = stored.filter(isReminder);
      this.#nextId = Math.max(0, ...this.#list.map((r) => r.id)) + 1;
      for (const r of this.#list) this.#schedule(r);
      if (this.#list.length) host.log.info("reminders rescheduled", { count: this.#list.length });
    },
    stop: () => this.#save(false),
  };

  /** Add a reminder, store it and schedule it. */
  async add(r: Omit<Reminder, "id">): Promise<Reminder> {
    const full = { ...r, id: this.#nextId++ };
    this.#list.push(full);
    this.#schedule(full);
    await this.#save();
    return full;
  }

  /** A user's pending reminders, soonest first. */
  forUser(user: string): Reminder[] {
    return this.#list.filter((r) => r.user === user).sort((a, b) => a.due - b.due);
  }

  #schedule(r: Reminder): void {
    this.#sched.at(new Date(r.due), `remind:${r.id}`, async (job) => {
      await job.say(r.to, `⏰ Reminder: ${r.text}`, r.type);
      this.#list = this.#list.filter((x) => x.id !== r.id);
      await this.#save();
    });
  }

  /** Write the current list; writes run one after another, each with the list as it is then. */
  #save(write = true): Promise<void> {
    return this.#writes.run(KEY, async () => {
      if (write) await this.#storage.write(KEY, this.#list);
    });
  }
}

function isReminder(v: unknown): v is Reminder {
  const r = v as Reminder;
  return typeof r === "object" && r !== null && typeof r.id === "number" && typeof r.to === "string" && typeof r.text === "string" && typeof r.due === "number";
}
