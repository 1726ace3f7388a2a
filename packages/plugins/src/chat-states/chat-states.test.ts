// Chat state notifications (XEP-0085).
import { Bot, NS, xml, type Element } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { scheduler } from "../scheduler/index.ts";
import { chatStates } from "./index.ts";

/** The stanza as XML without generated ids and the core's XEP-0359 origin-id (not this plugin's business). */
const strip = (el: Element) => el.toString().replace(/<origin-id [^>]*\/>/g, "").replace(/ id="br-[^"]+"/g, "");
const names = (el: Element) => el.getChildElements().map((c) => c.name).filter((n) => n !== "origin-id");
const NO_STORE = `<no-store xmlns="urn:xmpp:hints"/>`;

afterEach(() => {
  vi.useRealTimers();
});

describe("chat states", () => {
  function slowBot(work: () => Promise<void>, reply: boolean) {
    const bot = new Bot({ name: "slow" });
    bot.install(chatStates({ composingDelayMs: 300 }));
    bot.on("message:body", async (ctx) => {
      await work();
      if (reply) await ctx.reply("done");
    });
    return bot;
  }

  it("shows composing for a slow handler, and the reply carries <active/>", async () => {
    vi.useFakeTimers();
    const t = await createHarness(slowBot(() => new Promise((r) => setTimeout(r, 1000)), true));
    t.transport.receive(xml("message", { from: "alice@botrun.test/phone", type: "chat" }, xml("body", {}, "work")));
    await vi.advanceTimersByTimeAsync(299);
    expect(t.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.sent.map(strip)).toEqual([`<message to="alice@botrun.test/phone" type="chat"><composing xmlns="${NS.chatStates}"/>${NO_STORE}</message>`]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.sent.map(strip)[1]).toBe(`<message to="alice@botrun.test/phone" type="chat"><body>done</body><active xmlns="${NS.chatStates}"/></message>`);
    expect(t.sent).toHaveLength(2);
  });

  it("sends paused when a slow handler ends without a reply", async () => {
    vi.useFakeTimers();
    const t = await createHarness(slowBot(() => new Promise((r) => setTimeout(r, 1000)), false));
    t.transport.receive(xml("message", { from: "alice@botrun.test/phone", type: "chat" }, xml("body", {}, "work")));
    await vi.advanceTimersByTimeAsync(1500);
    expect(t.sent.map((e) => names(e).join("+"))).toEqual(["composing+no-store", "paused+no-store"]);
  });

  it("counts a message another plugin sends to the chat meanwhile as the reply (no paused)", async () => {
    vi.useFakeTimers();
    const sched = scheduler();
    const bot = new Bot({ name: "slow" });
    bot.install(chatStates({ composingDelayMs: 300 }), sched);
    bot.on("message:body", () => new Promise((r) => setTimeout(r, 1000)));
    const t = await createHarness(bot);
    sched.at(new Date(Date.now() + 500), "ping", (job) => job.say("alice@botrun.test", "from the job"));
    t.transport.receive(xml("message", { from: "alice@botrun.test/phone", type: "chat" }, xml("body", {}, "work")));
    await vi.advanceTimersByTimeAsync(1500);
    expect(t.sent.map((e) => names(e).join("+"))).toEqual(["composing+no-store", "body+active"]); // a body is stored
    await t.stop();
  });

  it("sends no chat state for a fast handler, and none in rooms", async () => {
    const t = await createHarness(slowBot(async () => {}, true));
    await t.say("quick");
    expect(t.sent.map(strip)).toEqual([`<message to="alice@botrun.test/phone" type="chat"><body>done</body><active xmlns="${NS.chatStates}"/></message>`]);
    t.clear();
    await t.joinRoom("r@conference.botrun.test", "slow");
    await t.groupchat("r@conference.botrun.test", "carol", "quick");
    expect(t.sent.map((e) => e.getChild("active", NS.chatStates))).toEqual([undefined]);
  });
});
