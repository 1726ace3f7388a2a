// Rate limits: inbound token buckets per sender (bounded memory), outbound pacing with p-queue.
import { Bot, xml, type Context } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { rooms } from "../rooms/index.ts";
import { scheduler } from "../scheduler/index.ts";
import { rateLimit, throttle } from "./index.ts";

const chat = (from: string, text: string) =>
  xml("message", { from, to: "bot@botrun.test/test", type: "chat" }, xml("body", {}, text));

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

function echoBot(limiter: ReturnType<typeof rateLimit>) {
  const bot = new Bot({ name: "limited" });
  bot.install(limiter);
  bot.on("message:body", (ctx) => ctx.reply(`got ${ctx.text}`));
  return bot;
}

describe("inbound rate limit", () => {
  it("accepts a burst up to capacity, warns once, drops the rest, then refills", async () => {
    const dropped: string[] = [];
    const t = await createHarness(echoBot(rateLimit({ capacity: 3, refillPerSecond: 1, onLimited: (_c, k) => dropped.push(k) })));
    for (let i = 1; i <= 6; i++) await t.say(`m${i}`);
    expect(t.replies()).toEqual(["got m1", "got m2", "got m3", "You are sending messages too fast; I'll ignore some of them."]);
    expect(dropped).toEqual(["alice@botrun.test", "alice@botrun.test", "alice@botrun.test"]);
    await vi.advanceTimersByTimeAsync(2000);
    await t.say("m7");
    await t.say("m8");
    await t.say("m9");
    expect(t.replies().slice(4)).toEqual(["got m7", "got m8", "You are sending messages too fast; I'll ignore some of them."]);
  });

  it("in a room, warns privately and only whoever addressed the bot; chatter floods get no warning", async () => {
    const LOBBY = "lobby@conference.botrun.test";
    const bot = new Bot({ name: "limited" });
    bot.install(rateLimit({ capacity: 1, refillPerSecond: 0.01 }), rooms({ join: [LOBBY], nick: "lim" }));
    const t = await createHarness(bot);
    for (const text of ["chat 1", "chat 2", "chat 3"]) await t.groupchat(LOBBY, "carol", text);
    for (const text of ["!x", "!y", "!z"]) await t.groupchat(LOBBY, "dave", text);
    for (const text of ["hi", "lim: hello?", "lim?"]) await t.groupchat(LOBBY, "erin", text);
    const warnings = t.sent.filter((e) => e.getChildText("body")?.startsWith("You are sending"));
    expect(warnings.map((e) => [e.attrs.to, e.attrs.type])).toEqual([
      [`${LOBBY}/dave`, "chat"],
      [`${LOBBY}/erin`, "chat"],
    ]);
    expect(t.sent.filter((e) => e.attrs.type === "groupchat")).toEqual([]);
  });

  it("drop mode is silent, and senders are limited independently", async () => {
    const t = await createHarness(echoBot(rateLimit({ capacity: 1, refillPerSecond: 0.1, mode: "drop" })));
    await t.message("a@x.test/1", "1");
    await t.message("a@x.test/2", "2"); // same bare JID, other resource: same bucket
    await t.message("b@x.test/1", "3");
    expect(t.replies()).toEqual(["got 1", "got 3"]);
  });

  it("does not limit presences or delayed messages", async () => {
    const t = await createHarness(echoBot(rateLimit({ capacity: 1, refillPerSecond: 0.1, mode: "drop" })));
    await t.say("old", { delayed: true });
    await t.say("new");
    expect(t.replies()).toEqual(["got old", "got new"]);
  });

  it("keeps memory bounded with 100 000 distinct senders", async () => {
    const limiter = rateLimit({ capacity: 2, maxSenders: 10_000 });
    for (let i = 0; i < 100_000; i++) limiter.take(`user${i}@flood.test`);
    expect(limiter.size).toBe(10_000);
    const t = await createHarness(echoBot(limiter));
    for (let i = 0; i < 500; i++) t.transport.receive(chat(`n${i}@flood.test/r`, "hi"));
    await t.settle();
    expect(limiter.size).toBe(10_000);
    expect(t.replies()).toHaveLength(500);
  });

  it("rejects nonsense options", () => {
    expect(() => rateLimit({ capacity: 0 })).toThrow(RangeError);
  });
});

describe("outbound throttle", () => {
  function spammer(th: ReturnType<typeof throttle>, count: number, size = 10) {
    const bot = new Bot({ name: "spammer" });
    bot.install(th);
    bot.command("spam", async (ctx) => {
      const to = ctx.args[0];
      await Promise.all(
        Array.from({ length: count }, (_, i) => (to ? ctx.send(to, `${i}`.padEnd(size, ".")) : ctx.reply(`${i}`.padEnd(size, ".")))),
      );
    });
    bot.on("message:body", (ctx) => ctx.reply("ok"));
    return bot;
  }

  it("paces one destination at its per-destination rate, keeping order", async () => {
    const th = throttle({ perDestinationPerSecond: 2, messagesPerSecond: 100 });
    const t = await createHarness(spammer(th, 7));
    t.transport.receive(chat("alice@botrun.test/a", "!spam"));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.replies()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.replies()).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(2000);
    expect(t.replies().map((r) => r.replace(/\.+$/, ""))).toEqual(["0", "1", "2", "3", "4", "5", "6"]);
  });

  it("caps the overall rate across destinations", async () => {
    const th = throttle({ perDestinationPerSecond: 100, messagesPerSecond: 3, bytesPerSecond: 1e6 });
    const bot = new Bot({ name: "fan" });
    bot.install(th);
    bot.on("message:body", (ctx) => ctx.reply("ok"));
    const t = await createHarness(bot);
    for (let i = 0; i < 9; i++) t.transport.receive(chat(`u${i}@x.test/a`, "hi"));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.replies()).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.replies()).toHaveLength(6);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.replies()).toHaveLength(9);
    expect(th.queued()).toBe(0);
  });

  it("caps bytes per second after the burst allowance", async () => {
    const th = throttle({ perDestinationPerSecond: 100, messagesPerSecond: 100, bytesPerSecond: 2000, burstBytes: 2000 });
    const t = await createHarness(spammer(th, 10, 900)); // each stanza ~1 KB
    const bytesSent = () => t.sent.reduce((n, el) => n + Buffer.byteLength(el.toString()), 0);
    t.transport.receive(chat("alice@botrun.test/a", "!spam"));
    for (let ms = 0; ms <= 3000; ms += 250) {
      await vi.advanceTimersByTimeAsync(ms === 0 ? 0 : 250);
      expect(bytesSent()).toBeLessThanOrEqual(2000 + 2 * ms); // burst + 2000 B/s
    }
    expect(t.replies().length).toBeLessThan(10); // ~10 KB cannot all go within 3 s
    await vi.advanceTimersByTimeAsync(2000);
    expect(t.replies()).toHaveLength(10);
  });

  it("keeps counting for a destination between one-at-a-time sends", async () => {
    const th = throttle({ perDestinationPerSecond: 2 });
    const sent: number[] = [];
    const send = th.wrap(async () => void sent.push(Date.now()));
    const sequential = (async () => {
      for (let i = 0; i < 4; i++) await send(xml("message", { to: "a@x.test" })); // each waits for the last
    })();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    await sequential;
    expect(sent).toHaveLength(4);
  });

  it("paces a burst of 200 replies to one destination: nothing dropped, order kept, never over the rate", async () => {
    const th = throttle({ perDestinationPerSecond: 3, messagesPerSecond: 10 });
    const bot = new Bot({ name: "burst" });
    bot.install(th);
    bot.on("message:body", (ctx) => ctx.reply(`re ${ctx.text}`));
    const t = await createHarness(bot);
    const at: number[] = [];
    t.runtime.on("sent", () => void at.push(Date.now()));
    for (let i = 0; i < 200; i++) t.transport.receive(chat("alice@botrun.test/a", String(i)));
    await vi.advanceTimersByTimeAsync(0);
    expect(t.replies()).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(t.replies().length).toBeLessThanOrEqual(3 * 31);
    expect(t.replies().length).toBeGreaterThanOrEqual(3 * 30);
    await vi.advanceTimersByTimeAsync(40_000);
    await t.settle();
    expect(t.replies()).toEqual(Array.from({ length: 200 }, (_, i) => `re ${i}`));
    // Sliding window: no 1-second window holds more than 3 stanzas.
    for (let i = 3; i < at.length; i++) expect(at[i]! - at[i - 3]!).toBeGreaterThanOrEqual(1000);
    expect(th.queued()).toBe(0);
  });

  it("throttles plugin sends: a scheduler job's messages are paced like replies", async () => {
    const th = throttle({ perDestinationPerSecond: 2, messagesPerSecond: 100 });
    const sched = scheduler();
    const bot = new Bot({ name: "cron" });
    bot.install(th, sched);
    const t = await createHarness(bot);
    sched.at(new Date(Date.now() + 1000), "digest", async (job) => {
      await Promise.all(Array.from({ length: 6 }, (_, i) => job.say("ops@x.test", `line ${i}`)));
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.replies("ops@x.test")).toEqual(["line 0", "line 1"]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.replies("ops@x.test")).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.replies("ops@x.test")).toEqual(["line 0", "line 1", "line 2", "line 3", "line 4", "line 5"]);
    await t.stop();
  });

  it("does not hold up the shutdown: stanzas sent while stopping skip the backlog", async () => {
    const th = throttle({ perDestinationPerSecond: 100, messagesPerSecond: 1 });
    const sched = scheduler();
    const bot = new Bot({ name: "busy" });
    bot.install(th, rooms({ join: ["lobby@conference.botrun.test"] }), sched);
    const t = await createHarness(bot);
    await vi.advanceTimersByTimeAsync(1000);
    sched.at(new Date(Date.now() + 1000), "flood", (job) => {
      for (let i = 0; i < 30; i++) void job.say("alice@botrun.test", `n${i}`); // not awaited: a backlog of 30 s
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(th.queued()).toBeGreaterThan(25);
    const stopping = t.stop();
    await vi.advanceTimersByTimeAsync(0);
    await stopping;
    // The leave presence skipped the backlog; then the backlog went to the transport at once, in order: no timer keeps the bot alive.
    const leave = t.sent.findIndex((e) => e.toString() === `<presence to="lobby@conference.botrun.test/busy" type="unavailable"/>`);
    const afterLeave = t.sent.slice(leave + 1).map((e) => e.getChildText("body"));
    expect(afterLeave.length).toBeGreaterThan(25);
    expect(t.replies("alice@botrun.test")).toEqual(Array.from({ length: 30 }, (_, i) => `n${i}`));
    expect(th.queued()).toBe(0);
  });

  it("wraps plugin sends too", async () => {
    const th = throttle({ perDestinationPerSecond: 1 });
    const sent: string[] = [];
    const send = th.wrap(async (el) => void sent.push(String(el.attrs.to)));
    for (let i = 0; i < 3; i++) void send(xml("message", { to: "a@x.test" }));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2000);
    expect(sent).toHaveLength(3);
    await th.idle();
  });
});

void (null as unknown as Context);
