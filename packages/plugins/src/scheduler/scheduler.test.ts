// Scheduler: every N seconds, daily at HH:MM, once at a Date; offline skips; stopped on shutdown.
import { Bot } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nextDaily, parseClock, scheduler } from "./index.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date(2030, 0, 1, 8, 0, 0) }); // local 08:00
});
afterEach(() => {
  vi.useRealTimers();
});

async function setup() {
  const sched = scheduler();
  const bot = new Bot({ name: "clock" });
  bot.install(sched);
  const t = await createHarness(bot);
  return { sched, t };
}

describe("scheduler", () => {
  it("runs a job every N seconds and can send messages", async () => {
    const { sched, t } = await setup();
    sched.every(60, "tick", (job) => job.say("alice@botrun.test", `tick ${job.scheduledFor.getMinutes()}`));
    await vi.advanceTimersByTimeAsync(59_999);
    expect(t.replies()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(t.replies()).toEqual(["tick 1", "tick 2", "tick 3"]);
    expect(sched.jobs()[0]).toMatchObject({ name: "tick", kind: "every", runs: 3 });
    await t.stop();
  });

  it("runs daily at HH:MM, today if still ahead, then every day", async () => {
    const { sched, t } = await setup();
    const runs: string[] = [];
    sched.daily("09:30", "standup", (job) => void runs.push(job.scheduledFor.toString()));
    await vi.advanceTimersByTimeAsync(90 * 60_000 - 1);
    expect(runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(24 * 3600_000);
    expect(runs).toHaveLength(2);
    expect(new Date(runs[1]!).getHours()).toBe(9);
    await t.stop();
  });

  it("runs a one-shot job at a Date and forgets it", async () => {
    const { sched, t } = await setup();
    let ran = 0;
    sched.at(new Date(Date.now() + 5000), "once", () => void ran++);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ran).toBe(1);
    expect(sched.jobs()).toEqual([]);
    await t.stop();
  });

  it("skips recurring ticks while offline and runs missed one-shots on the next session", async () => {
    const { sched, t } = await setup();
    let ticks = 0;
    let reminders = 0;
    sched.every(10, "tick", () => void ticks++);
    sched.at(new Date(Date.now() + 15_000), "remind", () => void reminders++);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ticks).toBe(1);
    t.transport.disconnect(); // connection lost
    await vi.advanceTimersByTimeAsync(30_000);
    expect([ticks, reminders]).toEqual([1, 0]);
    t.transport.resume({ newSession: true }); // resumption failed: a new session
    await t.settle();
    expect(reminders).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ticks).toBe(2);
    await t.stop();
  });

  it("runs a one-shot missed while offline once the stream is resumed (no new session)", async () => {
    const { sched, t } = await setup();
    const said: string[] = [];
    sched.at(new Date(Date.now() + 5000), "remind", async (job) => {
      said.push(job.scheduledFor.toISOString());
      await job.say("alice@botrun.test", "your reminder");
    });
    t.transport.disconnect();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(said).toEqual([]);
    expect(t.replies()).toEqual([]);
    t.transport.resume(); // XEP-0198 resumption: no online hook
    await vi.advanceTimersByTimeAsync(1000);
    expect(said).toEqual([new Date(Date.now() - 16_000).toISOString()]); // it keeps the time it was due
    expect(t.replies()).toEqual(["your reminder"]);
    expect(sched.jobs()).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(said).toHaveLength(1);
    await t.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("skips recurring ticks while disconnected and resumes them after a resumed stream", async () => {
    const { sched, t } = await setup();
    sched.every(10, "tick", (job) => job.say("alice@botrun.test", "tick"));
    await vi.advanceTimersByTimeAsync(10_000);
    t.transport.disconnect();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(t.replies()).toHaveLength(1);
    t.transport.resume();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.replies()).toHaveLength(2);
    await t.stop();
  });

  it("does not overlap a slow job with itself and survives job errors", async () => {
    const { sched, t } = await setup();
    let started = 0;
    sched.every(1, "slow", async () => {
      started++;
      await new Promise((r) => setTimeout(r, 2500));
    });
    let failures = 0;
    sched.every(1, "broken", () => {
      failures++;
      throw new Error("boom");
    });
    await vi.advanceTimersByTimeAsync(5000);
    expect(started).toBe(2); // runs at 1s and 4s; ticks at 2s and 3s were skipped
    expect(failures).toBe(5);
    const stopping = t.stop(); // waits for the slow job's current run
    await vi.advanceTimersByTimeAsync(3000);
    await stopping;
  });

  it("clears every timer on stop and waits for running jobs", async () => {
    const { sched, t } = await setup();
    let finished = false;
    let runs = 0;
    sched.every(1, "job", async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 500));
      finished = true;
    });
    await vi.advanceTimersByTimeAsync(1000);
    const stopping = t.stop();
    await vi.advanceTimersByTimeAsync(500);
    await stopping;
    expect(finished).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs).toBe(1);
  });

  it("cancels and replaces jobs, and rejects bad input", async () => {
    const { sched, t } = await setup();
    let a = 0;
    sched.every(1, "x", () => void a++);
    sched.every(1, "x", () => void (a += 10)); // replaces
    await vi.advanceTimersByTimeAsync(1000);
    expect(a).toBe(10);
    expect(sched.cancel("x")).toBe(true);
    expect(sched.cancel("x")).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(a).toBe(10);
    expect(() => sched.every(0, "bad", () => {})).toThrow(RangeError);
    expect(() => sched.daily("25:00", "bad", () => {})).toThrow(/HH:MM/);
    expect(() => sched.at(new Date("nope"), "bad", () => {})).toThrow(/invalid date/);
    await t.stop();
  });

  it("computes the next daily time", () => {
    expect(parseClock("7:05")).toEqual({ hour: 7, minute: 5 });
    const now = new Date(Date.UTC(2030, 0, 1, 10, 0));
    expect(nextDaily(now, 9, 0, true).toISOString()).toBe("2030-01-02T09:00:00.000Z");
    expect(nextDaily(now, 10, 1, true).toISOString()).toBe("2030-01-01T10:01:00.000Z");
  });
});
