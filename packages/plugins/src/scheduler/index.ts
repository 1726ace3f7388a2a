/**
 * The scheduler: jobs every N seconds, daily at `HH:MM`, or once at a `Date`. Timers start
 * with the bot and are all cleared on shutdown (`stop` hook), which also waits for running jobs.
 *
 * While the bot is offline (no session) recurring ticks are skipped, not queued; a one-shot
 * job that came due while offline runs as soon as the next session starts, or, when the stream
 * is resumed instead (no new session, no `online` hook), at the first check after it is back
 * (checked every `offlineCheckMs`). A job whose
 * previous run has not finished skips that tick (no overlap). Errors are logged and the job
 * keeps its schedule. Works with fake timers (`vi.useFakeTimers()`).
 */
import { message, type Element, type Plugin, type PluginHost } from "@botrun/core";
import { nextDaily, parseClock } from "./time.ts";

export { nextDaily, parseClock } from "./time.ts";

/** What a job receives. */
export interface JobContext {
  /** The job's name. */
  readonly name: string;
  /** When this run was due. */
  readonly scheduledFor: Date;
  /** The plugin host (bot API, logger). */
  readonly host: PluginHost;
  /** Send a stanza. */
  send(stanza: Element): Promise<void>;
  /** Send a chat message (`type: "groupchat"` for rooms). */
  say(to: string, text: string, type?: "chat" | "groupchat"): Promise<void>;
}

/** A job function. */
export type JobFn = (job: JobContext) => unknown;

/** A scheduled job, as listed by `jobs()`. */
export interface JobInfo {
  readonly name: string;
  readonly kind: "every" | "daily" | "at";
  /** Next due time, if scheduled. */
  readonly next: Date | undefined;
  readonly runs: number;
}

/** Options of `scheduler()`. */
export interface SchedulerOptions {
  /** Plugin name (default `scheduler`). */
  name?: string;
  /** While one-shot jobs wait for the bot to be back online, look this often (default 1000 ms). */
  offlineCheckMs?: number;
}

interface Job {
  name: string;
  kind: JobInfo["kind"];
  fn: JobFn;
  nextDue: (after: Date) => Date | undefined;
  next: Date | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  running: Promise<void> | undefined;
  missed: boolean;
  /** When a missed one-shot was due. */
  due: Date | undefined;
  runs: number;
}

/** The scheduler plugin. */
export interface Scheduler extends Plugin {
  /** Run `fn` every `seconds` (first run after one period). Replaces a job of the same name. */
  every(seconds: number, name: string, fn: JobFn): this;
  /** Run `fn` every day at `HH:MM` (local time, or UTC with `{ utc: true }`). */
  daily(time: string, name: string, fn: JobFn, opts?: { utc?: boolean }): this;
  /** Run `fn` once at `when` (at once if it is in the past). */
  at(when: Date, name: string, fn: JobFn): this;
  /** Remove a job; true if it existed. */
  cancel(name: string): boolean;
  /** The jobs, by name. */
  jobs(): JobInfo[];
}

const MAX_TIMEOUT = 2_147_483_647;

/** Create a scheduler. */
export function scheduler(opts: SchedulerOptions = {}): Scheduler {
  const jobs = new Map<string, Job>();
  let host: PluginHost | undefined;
  let started = false;
  let stopped = false;
  let recheck: ReturnType<typeof setTimeout> | undefined;
  const checkMs = opts.offlineCheckMs ?? 1000;

  /** Run the one-shot jobs missed while offline. */
  const runMissed = () => {
    for (const j of [...jobs.values()]) {
      if (j.missed) {
        j.missed = false;
        jobs.delete(j.name);
        run(j, j.due ?? new Date());
      }
    }
  };

  /** While missed jobs wait, check now and then whether the bot is back (a resumed stream has no `online` hook). */
  const watchForReturn = () => {
    if (recheck || stopped) return;
    recheck = setTimeout(() => {
      recheck = undefined;
      if (stopped || !host || host.stopping) return;
      if (host.bot.jid !== undefined) runMissed();
      else if ([...jobs.values()].some((j) => j.missed)) watchForReturn();
    }, checkMs);
    recheck.unref?.();
  };

  const arm = (job: Job) => {
    if (job.timer) clearTimeout(job.timer);
    job.timer = undefined;
    if (!started || stopped || !job.next) return;
    const wait = Math.max(0, job.next.getTime() - Date.now());
    job.timer = setTimeout(() => (wait > MAX_TIMEOUT ? arm(job) : fire(job)), Math.min(wait, MAX_TIMEOUT));
    job.timer.unref?.();
  };

  const fire = (job: Job) => {
    job.timer = undefined;
    const due = job.next!;
    job.next = job.nextDue(new Date(Math.max(Date.now(), due.getTime())));
    if (job.next === undefined && job.kind !== "at") jobs.delete(job.name);
    arm(job);
    if (!host || host.stopping) return;
    if (host.bot.jid === undefined) {
      if (job.kind === "at") {
        job.missed = true;
        job.due = due;
        watchForReturn();
      }
      host.log.debug("job skipped: offline", { job: job.name });
      return;
    }
    run(job, due);
  };

  const run = (job: Job, due: Date) => {
    if (job.running) {
      host!.log.warn("job still running, tick skipped", { job: job.name });
      return;
    }
    const h = host!;
    const ctx: JobContext = {
      name: job.name,
      scheduledFor: due,
      host: h,
      send: (el) => h.send(el),
      say: (to, text, type = "chat") => h.send(message({ to, type, body: text })),
    };
    job.runs++;
    job.running = (async () => {
      await Promise.resolve(); // let `job.running` be assigned before a synchronous job finishes
      try {
        await job.fn(ctx);
      } catch (error) {
        h.log.error("job failed", { job: job.name, error });
      } finally {
        job.running = undefined;
        if (job.kind === "at" && !job.missed && jobs.get(job.name) === job) jobs.delete(job.name);
      }
    })();
  };

  const add = (job: Omit<Job, "timer" | "running" | "missed" | "due" | "runs" | "next">, first: Date | undefined) => {
    if (!job.name) throw new TypeError("a job needs a name");
    const old = jobs.get(job.name);
    if (old?.timer) clearTimeout(old.timer);
    const full: Job = { ...job, next: first, timer: undefined, running: undefined, missed: false, due: undefined, runs: 0 };
    jobs.set(job.name, full);
    arm(full);
  };

  const api: Scheduler = {
    name: opts.name ?? "scheduler",
    start(h) {
      host = h;
      started = true;
      for (const j of jobs.values()) arm(j);
    },
    online(h) {
      host = h;
      runMissed();
    },
    async stop() {
      stopped = true;
      if (recheck) clearTimeout(recheck);
      for (const j of jobs.values()) if (j.timer) clearTimeout(j.timer);
      await Promise.all([...jobs.values()].map((j) => j.running));
    },
    every(seconds, name, fn) {
      if (!(seconds > 0)) throw new RangeError(`every(): seconds must be > 0, got ${seconds}`);
      const ms = seconds * 1000;
      add({ name, kind: "every", fn, nextDue: (after) => new Date(after.getTime() + ms) }, new Date(Date.now() + ms));
      return this;
    },
    daily(time, name, fn, o = {}) {
      const { hour, minute } = parseClock(time);
      const nextDue = (after: Date) => nextDaily(after, hour, minute, o.utc);
      add({ name, kind: "daily", fn, nextDue }, nextDue(new Date()));
      return this;
    },
    at(when, name, fn) {
      if (Number.isNaN(when.getTime())) throw new TypeError("at(): invalid date");
      add({ name, kind: "at", fn, nextDue: () => undefined }, when);
      return this;
    },
    cancel(name) {
      const j = jobs.get(name);
      if (!j) return false;
      if (j.timer) clearTimeout(j.timer);
      jobs.delete(name);
      return true;
    },
    jobs() {
      return [...jobs.values()].map((j) => ({ name: j.name, kind: j.kind, next: j.next, runs: j.runs }));
    },
  };
  return api;
}
