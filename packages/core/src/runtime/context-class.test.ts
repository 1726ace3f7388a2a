// The bot's own context class: its ContextConstructor, plugins' and the host's members set once, no overwritten readonly fields.
import { describe, expect, it } from "vitest";
import { Bot } from "../bot.ts";
import { Context } from "../context.ts";
import { buildContextClass } from "./context-class.ts";
import { bare } from "../jid.ts";
import { createHarness } from "../testing/harness.ts";
import { presence, xml, NS } from "../stanza.ts";

class LangContext extends Context {
  /** A field of the bot's own, set once in the constructor. */
  readonly lang = this.text?.startsWith("bonjour") ? "fr" : "en";
}

interface GreetFlavor {
  greet(): Promise<void>;
}
interface AccountFlavor {
  readonly account: string;
}

describe("the bot's context class", () => {
  it("is built once per base class and set of declarations (a fleet's runtimes of one bot share it)", () => {
    const members = { get account(): string { return "a@h"; } };
    const one = buildContextClass(Context, [{ owner: "host", members }]);
    expect(buildContextClass(Context, [{ owner: "host", members }])).toBe(one);
    expect(buildContextClass(Context, [{ owner: "host", members: { ...members } }])).not.toBe(one);
    expect(buildContextClass(LangContext, [{ owner: "host", members }])).not.toBe(one);
  });

  it("is built from the bot's ContextConstructor: handlers get its fields, typed and set in its constructor", async () => {
    const bot = new Bot<LangContext>({ name: "t", ContextConstructor: LangContext });
    bot.on("message:body", (ctx) => ctx.reply(`${ctx instanceof LangContext} ${ctx.lang}`));
    const t = await createHarness(bot);
    await t.say("bonjour");
    await t.say("hello");
    expect(t.replies()).toEqual(["true fr", "true en"]);
  });

  it("carries the members plugins and the host declare, on the prototype (not assigned per stanza)", async () => {
    type C = Context & GreetFlavor & AccountFlavor;
    const bot = new Bot<C>({
      name: "t",
      plugins: [{ name: "greeter", context: { greet(this: Context) { return this.reply(`hi ${this.from}`); } } }],
    });
    let own: string[] = [];
    bot.on("message:body", async (ctx) => {
      own = Object.keys(ctx).filter((k) => k === "greet" || k === "account");
      await ctx.greet();
      await ctx.reply(ctx.account);
    });
    const fleet = { get account(): string { return bare((this as unknown as Context).bot.jid ?? (this as unknown as Context).to); } };
    const t = await createHarness(bot, { runtime: { context: { "the fleet": fleet } } });
    await t.say("x");
    expect(t.replies()).toEqual(["hi alice@botrun.test/phone", "bot@botrun.test"]);
    expect(own).toEqual([]);
  });

  it("refuses to start when a member would shadow a context field or another declaration", async () => {
    const shadow = new Bot({ name: "t", plugins: [{ name: "bad", context: { get chat() { return "x"; } } }] });
    await expect(createHarness(shadow)).rejects.toThrow('plugin "bad" adds ctx.chat, which the context already has');
    const twice = new Bot({ name: "t", plugins: [{ name: "a", context: { hello() {} } }, { name: "b", context: { hello() {} } }] });
    await expect(createHarness(twice)).rejects.toThrow('plugin "b" adds ctx.hello, which plugin "a" adds too');
  });
});

describe("Context.interceptSend", () => {
  it("routes reply/send/sendStanza through stacked interceptors and leaves ctx.bot as it was", async () => {
    const bot = new Bot({ name: "t" });
    const seen: string[] = [];
    let botUnchanged = false;
    bot.use(async (ctx, next) => {
      const before = ctx.bot;
      ctx.interceptSend((el, send) => (seen.push(`outer ${el.getChildText("body")}`), send(el)));
      ctx.interceptSend((el, send) => {
        seen.push(`inner ${el.getChildText("body")}`);
        return el.getChildText("body") === "drop" ? Promise.resolve() : send(el);
      });
      await next();
      botUnchanged = ctx.bot === before;
    });
    bot.on("message:body", async (ctx) => {
      await ctx.reply("one");
      await ctx.send("carol@botrun.test", "drop");
    });
    const t = await createHarness(bot);
    await t.say("x");
    expect(seen).toEqual(["inner one", "outer one", "inner drop"]);
    expect(t.replies()).toEqual(["one"]);
    expect(botUnchanged).toBe(true);
  });
});

describe("ctx.chat of a private message from a room occupant (XEP-0045 §7.5)", () => {
  it("is the occupant's full JID once the bot is in the room, even without a muc#user <x/>", async () => {
    const bot = new Bot({ name: "t" });
    const chats: string[] = [];
    bot.on("message:body", (ctx) => void chats.push(ctx.chat));
    const t = await createHarness(bot);
    const room = "lobby@conference.botrun.test";
    await t.push(xml("message", { from: `${room}/carol`, to: "bot@botrun.test/test", type: "chat" }, xml("body", {}, "before")));
    await t.runtime.send(presence({ to: `${room}/bot`, children: [xml("x", { xmlns: NS.muc })] })); // the simulated room answers with self-presence (status 110)
    await t.settle();
    await t.push(xml("message", { from: `${room}/carol`, to: "bot@botrun.test/test", type: "chat" }, xml("body", {}, "after")));
    await t.push(xml("message", { from: `${room}/dave`, type: "chat" }, xml("body", {}, "marked"), xml("x", { xmlns: NS.mucUser })));
    expect(chats).toEqual([room, `${room}/carol`, `${room}/dave`]);
  });
});
