// The commands router: prefixes, direct address, aliases, typed arguments, help, suggestions.
import { Bot } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import { commands, editDistance } from "./index.ts";

function makeBot() {
  const bot = new Bot({ name: "helper" });
  const cmds = commands();
  cmds.command("ping", { description: "Check the bot is alive", aliases: ["p"] }, (ctx) => ctx.reply("pong"));
  cmds.command(
    "remind",
    { description: "Remind me later", args: [{ name: "minutes", type: "integer" }, { name: "text", type: "rest" }] as const },
    (ctx) => {
      const minutes: number = ctx.params.minutes;
      return ctx.reply(`in ${minutes} min: ${ctx.params.text}`);
    },
  );
  cmds.command("say", { args: [{ name: "words", type: "string" }, { name: "loud", type: "boolean", optional: true }] as const }, (ctx) =>
    ctx.reply(ctx.params.loud ? ctx.params.words.toUpperCase() : ctx.params.words),
  );
  cmds.command("secret", { hidden: true }, (ctx) => ctx.reply("found it"));
  cmds.command("roomonly", { where: "room" }, (ctx) => ctx.reply("room!"));
  bot.install(cmds);
  bot.on("message:body", (ctx) => (ctx.text.startsWith("!") ? undefined : ctx.reply(`fallthrough: ${ctx.text}`)));
  return { bot, cmds };
}

describe("commands plugin", () => {
  it("runs a command by prefix, alias, direct address and bare word in a chat", async () => {
    const t = await createHarness(makeBot().bot);
    await t.say("!ping");
    await t.say("!P");
    await t.say("helper: ping");
    await t.say("@helper ping");
    await t.say("bot, ping"); // JID local part
    await t.say("ping");
    expect(t.replies()).toEqual(["pong", "pong", "pong", "pong", "pong", "pong"]);
  });

  it("passes ordinary chat on, and never answers unknown bare words", async () => {
    const t = await createHarness(makeBot().bot);
    await t.say("hello there");
    expect(t.replies()).toEqual(["fallthrough: hello there"]);
  });

  it("in rooms, answers only when addressed by prefix or mention of its nick", async () => {
    const t = await createHarness(makeBot().bot);
    await t.joinRoom("lobby@conference.botrun.test", "helpy");
    await t.groupchat("lobby@conference.botrun.test", "carol", "ping");
    await t.groupchat("lobby@conference.botrun.test", "carol", "helpy: ping");
    await t.groupchat("lobby@conference.botrun.test", "carol", "!ping");
    expect(t.replies()).toEqual(["fallthrough: ping", "pong", "pong"]);
  });

  it("parses quoted and typed arguments", async () => {
    const t = await createHarness(makeBot().bot);
    await t.say('!say "two words" yes');
    await t.say("!remind 5 buy   milk");
    expect(t.replies()).toEqual(["TWO WORDS", "in 5 min: buy milk"]);
  });

  it("answers bad arguments with the reason and a usage line", async () => {
    const t = await createHarness(makeBot().bot);
    await t.say("!remind soon buy milk");
    await t.say("!remind");
    await t.say("!say a maybe");
    await t.say("!say a yes extra");
    expect(t.replies()).toEqual([
      '<minutes> must be a whole number, got "soon". Usage: !remind <minutes> <text…>',
      "Missing <minutes>. Usage: !remind <minutes> <text…>",
      '<loud> must be yes or no, got "maybe". Usage: !say <words> [loud]',
      "Too many arguments (expected at most 2). Usage: !say <words> [loud]",
    ]);
  });

  it("suggests the closest command for a typo", async () => {
    const t = await createHarness(makeBot().bot);
    await t.say("!pnig");
    await t.say("!remnid 5 x");
    await t.say("!zzzzzz");
    expect(t.replies()).toEqual([
      "Unknown command `pnig`. Did you mean `!ping`?",
      "Unknown command `remnid`. Did you mean `!remind`?",
      "Unknown command `zzzzzz`. Say `!help` for the list.",
    ]);
  });

  it("lets a later handler take an unknown command instead of answering `unknown`", async () => {
    const bot = new Bot({ name: "helper" });
    bot.install(commands());
    bot.command("later", (ctx) => ctx.reply("later handled it"));
    const t = await createHarness(bot);
    await t.say("!later");
    expect(t.replies()).toEqual(["later handled it"]);
  });

  it("generates help, hides hidden commands and explains one command", async () => {
    const t = await createHarness(makeBot().bot);
    await t.say("!help");
    const list = t.lastReply()!;
    expect(list).toContain("!ping — Check the bot is alive");
    expect(list).toContain("!remind <minutes> <text…> — Remind me later");
    expect(list).not.toContain("secret");
    await t.say("!help p");
    expect(t.lastReply()).toBe("!ping\nCheck the bot is alive\nAliases: p");
    await t.say("help nope");
    expect(t.lastReply()).toBe("No command `nope`.");
  });

  it("refuses a room-only command in a chat with an explanation", async () => {
    const t = await createHarness(makeBot().bot);
    await t.say("!roomonly");
    expect(t.replies()).toEqual(["`roomonly` only works in a room."]);
  });

  it("guards can refuse with a clear message", async () => {
    const { bot, cmds } = makeBot();
    cmds.guard((ctx, cmd) => cmd.name !== "ping" || ctx.from.startsWith("bob") || "Only bob may ping.");
    const t = await createHarness(bot);
    await t.say("!ping");
    await t.message("bob@botrun.test/x", "!ping");
    expect(t.replies()).toEqual(["Only bob may ping.", "pong"]);
  });

  it("ignores delayed (offline/history) messages and handles bursts in order", async () => {
    const t = await createHarness(makeBot().bot);
    await t.say("!ping", { delayed: true });
    expect(t.replies()).toEqual([]);
    t.clear();
    for (let i = 0; i < 50; i++) t.transport.receive(msgFrom(`!say w${i}`));
    await t.settle();
    expect(t.replies()).toEqual(Array.from({ length: 50 }, (_, i) => `w${i}`));
  });

  it("rejects duplicate names and bad specs at registration", () => {
    const cmds = commands();
    cmds.command("a", { aliases: ["b"] }, () => {});
    expect(() => cmds.command("b", () => {})).toThrow(/already taken/);
    expect(() => cmds.command("c", { args: [{ name: "x", type: "rest" }, { name: "y" }] }, () => {})).toThrow(/must be last/);
    expect(() => cmds.command("d", { args: [{ name: "x", optional: true }, { name: "y" }] }, () => {})).toThrow(/follows an optional/);
  });

  it("computes edit distance with transpositions", () => {
    expect(editDistance("ping", "pnig")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });
});

import { xml } from "@botrun/core";
function msgFrom(text: string) {
  return xml("message", { from: "alice@botrun.test/phone", to: "bot@botrun.test/test", type: "chat" }, xml("body", {}, text));
}
