// The test kit itself: pushing every kind of stanza, waiting for output, transcripts, fake timers.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Bot } from "../bot.ts";
import { xml } from "../stanza.ts";
import { createHarness } from "./index.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("test kit", () => {
  it("say() resolves with exactly the stanzas sent while handling", async () => {
    const bot = new Bot({ name: "kit" });
    bot.on("message:body", async (ctx) => {
      await ctx.reply("one");
      await ctx.reply("two");
    });
    const t = await createHarness(bot);
    const first = await t.say("a");
    const second = await t.say("b");
    expect(first.map((e) => e.getChildText("body"))).toEqual(["one", "two"]);
    expect(second).toHaveLength(2);
    expect(t.sent).toHaveLength(4);
  });

  it("message() can come from any JID and replies go to the sender's full JID", async () => {
    const bot = new Bot({ name: "kit" });
    bot.on("message:body", (ctx) => ctx.reply(`hi ${ctx.from}`));
    const t = await createHarness(bot);
    const [out] = await t.message("zoe@elsewhere.net/tablet", "yo");
    expect(out!.attrs.to).toBe("zoe@elsewhere.net/tablet");
    expect(out!.getChildText("body")).toBe("hi zoe@elsewhere.net/tablet");
  });

  it("presence and subscribe reach the matching handlers", async () => {
    const bot = new Bot({ name: "kit" });
    bot.on("presence:subscribe", (ctx) => ctx.sendStanza(xml("presence", { to: ctx.from, type: "subscribed" })));
    bot.on("presence:available", (ctx) => ctx.send("log@x.org", `${ctx.from} is ${ctx.show}: ${ctx.status ?? ""}`));
    const t = await createHarness(bot);
    const [sub] = await t.subscribe("bob@x.org/res");
    expect(sub!.toString()).toBe('<presence to="bob@x.org" type="subscribed"/>');
    await t.presence("bob@x.org/res", "available", { show: "dnd", status: "busy" });
    expect(t.lastReply()).toBe("bob@x.org/res is dnd: busy");
  });

  it("a room message from the bot's own nick is not handled (own echo)", async () => {
    const bot = new Bot({ name: "kit" });
    let handled = 0;
    bot.on("message:groupchat:body", async (ctx) => {
      handled++;
      await ctx.reply("seen");
    });
    const t = await createHarness(bot);
    await t.joinRoom("room@conf.x.org", "kit");
    await t.groupchat("room@conf.x.org", "ann", "hello");
    // The simulated room echoed "seen" back from nick "kit"; it must not be handled again.
    expect(handled).toBe(1);
    expect(t.runtime.stats.dropped).toBe(1);
  });

  it("next() waits for output produced later, e.g. by a timer, under fake timers", async () => {
    vi.useFakeTimers();
    const bot = new Bot({ name: "kit" });
    bot.command("later", (ctx) => {
      setTimeout(() => void ctx.reply("done"), 60_000);
      return ctx.reply("scheduled");
    });
    const t = await createHarness(bot);
    await t.say("!later");
    expect(await t.nextReply()).toBe("scheduled");
    const pending = t.nextReply();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await pending).toBe("done");
  });

  it("expectTranscript() passes on the exact conversation and explains a mismatch", async () => {
    const bot = new Bot({ name: "kit" });
    bot.on("message:body", (ctx) => ctx.reply(ctx.text.toUpperCase()));
    const t = await createHarness(bot);
    await t.say("hi");
    await t.groupchat("r@c.x", "bob", "yo");
    t.expectTranscript(["alice: hi", "bot: HI", "bob: yo", "bot: YO"]);
    expect(() => t.expectTranscript(["alice: hi", "bot: hi"])).toThrow(/transcript mismatch[\s\S]*--- actual\nalice: hi\nbot: HI/);
  });

  it("error() delivers an error stanza with its condition", async () => {
    const bot = new Bot({ name: "kit" });
    const seen: string[] = [];
    bot.on("message:error", (ctx) => void seen.push(`${ctx.error.type}/${ctx.error.condition}`));
    const t = await createHarness(bot);
    await t.error("gone@x.org", "recipient-unavailable");
    expect(seen).toEqual(["cancel/recipient-unavailable"]);
  });

  it("reconnect() runs plugins' online hooks again; stop() runs their stop hooks", async () => {
    const events: string[] = [];
    const bot = new Bot({
      name: "kit",
      plugins: [{ name: "probe", online: (_h, s) => void events.push(`online ${s.jid}`), stop: () => void events.push("stop") }],
    });
    const t = await createHarness(bot, { jid: "kit@x.org/r" });
    await t.reconnect();
    await t.stop();
    expect(events).toEqual(["online kit@x.org/r", "online kit@x.org/r", "stop"]);
  });

  it("a malformed stanza is dropped without affecting later ones", async () => {
    const bot = new Bot({ name: "kit" });
    bot.on("message:body", (ctx) => ctx.reply("ok"));
    const t = await createHarness(bot);
    await t.push(xml("message", { type: "chat" })); // no from, no body
    await t.push(xml("weird", {}, xml("body", {}, "x")));
    await t.say("fine");
    expect(t.replies()).toEqual(["ok"]);
    expect(t.runtime.stats.dropped).toBe(1);
  });

  it("runs hundreds of messages in well under a second", async () => {
    const bot = new Bot({ name: "kit" });
    bot.on("message:body", (ctx) => ctx.reply(ctx.text));
    const t = await createHarness(bot);
    for (let i = 0; i < 500; i++) await t.say(`m${i}`);
    expect(t.replies()).toHaveLength(500);
    expect(t.replies()[499]).toBe("m499");
  });
});
