// The outbound throttle's bounds: per-destination and total caps with backpressure, refusal past the waiting line
// (one warning per interval), its depth in botrun_throttle_depth, and no backlog left after stop.
import { Bot, ServiceMetrics, xml, type Logger } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { throttle, ThrottleFullError } from "./index.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

function recordingLogger(lines: string[]): Logger {
  const log: Logger = {
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: (msg, fields) => void lines.push(`${msg} ${JSON.stringify(fields ?? {})}`),
    error: (msg) => void lines.push(msg),
    child: () => log,
  };
  return log;
}

const msg = (to: string, body: string) => xml("message", { to, type: "chat" }, xml("body", {}, body));

describe("throttle bounds", () => {
  it("holds at most maxPerDestination per destination, makes senders wait, refuses past the waiting line, warns once per interval", async () => {
    const warnings: string[] = [];
    const refusedTo: string[] = [];
    const th = throttle({ perDestinationPerSecond: 2, messagesPerSecond: 100, maxPerDestination: 5, maxQueued: 8, maxWaiting: 3, onRefused: (to) => refusedTo.push(to) });
    const bot = new Bot({ name: "bounded" });
    bot.install(th);
    const t = await createHarness(bot, { logger: recordingLogger(warnings) });
    const outcomes: string[] = [];
    const sends = Array.from({ length: 20 }, (_, i) =>
      t.runtime.api.send(msg("a@x.test", `a${i}`)).then(
        () => void outcomes.push(`sent a${i}`),
        (err: unknown) => void outcomes.push(err instanceof ThrottleFullError ? `refused a${i}` : `error a${i}`),
      ),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(th.queued()).toBe(5 + 3 - 2); // 5 accepted (2 already sent), 3 waiting for room
    expect(outcomes.filter((o) => o.startsWith("refused"))).toHaveLength(12);
    expect(refusedTo).toHaveLength(12);
    expect(warnings.filter((w) => w.startsWith("outbound throttle full"))).toHaveLength(1); // once, not 12 times
    // another destination is not blocked by the busy one
    await t.runtime.api.send(msg("b@x.test", "b0"));
    expect(t.replies("b@x.test")).toEqual(["b0"]);
    await vi.advanceTimersByTimeAsync(5000);
    await Promise.all(sends);
    expect(t.replies("a@x.test")).toEqual(["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"]); // every accepted one, in order
    expect(th.queued()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    void t.runtime.api.send(msg("a@x.test", "x")).catch(() => {});
    for (let i = 0; i < 20; i++) void t.runtime.api.send(msg("a@x.test", `again${i}`)).catch(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(warnings.filter((w) => w.startsWith("outbound throttle full"))).toHaveLength(2); // a new interval, a new line
    await t.stop();
  });

  it("lets waiting senders in one per freed place, never past the bound", async () => {
    const th = throttle({ perDestinationPerSecond: 2, messagesPerSecond: 100, maxPerDestination: 5, maxWaiting: 10 });
    const bot = new Bot({ name: "bounded" });
    bot.install(th);
    const t = await createHarness(bot);
    const send = (i: number) => t.runtime.api.send(msg("a@x.test", `m${i}`)).catch(() => {});
    for (let i = 0; i < 15; i++) void send(i); // 5 accepted (2 go at once, freeing 2 places), 10 wait
    await vi.advanceTimersByTimeAsync(0);
    expect(th.refused).toBe(0);
    for (let i = 15; i < 25; i++) void send(i); // 8 still wait: room for 2 more in the waiting line
    await vi.advanceTimersByTimeAsync(0);
    expect(th.refused).toBe(8);
    expect(th.queued()).toBe(5 + 10); // 5 accepted (the bound), 10 waiting
    await vi.advanceTimersByTimeAsync(20_000);
    expect(t.replies()).toEqual(["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11", "m12", "m13", "m14", "m15", "m16"]);
    await t.stop();
  });

  it("caps the total across destinations", async () => {
    const th = throttle({ perDestinationPerSecond: 1, messagesPerSecond: 1, maxPerDestination: 100, maxQueued: 4, maxWaiting: 100 });
    const bot = new Bot({ name: "total" });
    bot.install(th);
    const t = await createHarness(bot);
    for (let i = 0; i < 10; i++) void t.runtime.api.send(msg(`u${i}@x.test`, `m${i}`));
    await vi.advanceTimersByTimeAsync(0);
    expect(th.queued()).toBe(9); // 1 sent; 3 queued; 6 waiting for room
    await vi.advanceTimersByTimeAsync(10_000);
    expect(t.replies()).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    await t.stop();
  });

  it("shows its depth in botrun_throttle_depth, and leaves nothing queued after stop", async () => {
    const th = throttle({ perDestinationPerSecond: 1, messagesPerSecond: 100 });
    const bot = new Bot({ name: "depth" });
    bot.install(th);
    const t = await createHarness(bot);
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    metrics.watch({ name: "depth", runtime: t.runtime, transport: t.transport });
    for (let i = 0; i < 12; i++) void t.runtime.api.send(msg("a@x.test", `m${i}`));
    await vi.advanceTimersByTimeAsync(0);
    const depth = async () => Number(/^botrun_throttle_depth\{bot="depth"\} (\d+)$/m.exec(await metrics.registry.metrics())?.[1]);
    expect(await depth()).toBe(11);
    await t.stop();
    expect(await depth()).toBe(0);
    expect(t.replies()).toHaveLength(12);
  });
});
