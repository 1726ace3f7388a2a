// The commands router's manners: rooms (only what is addressed to it), XEP-0308 corrections, huge words, bots answering bots.
import { Bot, NS, xml } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import { closest, commands } from "./index.ts";
import { NS_REPLY } from "../util/room-talk.ts";

const LOBBY = "lobby@conference.botrun.test";

function makeBot() {
  const bot = new Bot({ name: "helper" });
  const cmds = commands();
  let runs = 0;
  cmds.command("ping", (ctx) => ctx.reply(`pong ${++runs}`));
  cmds.command("echo", { corrections: "run" }, (ctx) => ctx.reply(ctx.argsText));
  bot.install(cmds);
  return bot;
}

const msg = (text: string, attrs: Record<string, string> = {}, ...children: ReturnType<typeof xml>[]) =>
  xml("message", { from: "alice@botrun.test/phone", type: "chat", ...attrs }, xml("body", {}, text), ...children);

describe("commands manners", () => {
  it("in a room, answers only its own `!commands` and `nick: word`, never a bare `!other` meant for another bot", async () => {
    const t = await createHarness(makeBot());
    await t.joinRoom(LOBBY, "helper");
    await t.groupchat(LOBBY, "carol", "!weather paris"); // another bot's command
    await t.groupchat(LOBBY, "carol", "!ping");
    await t.groupchat(LOBBY, "carol", "helper: weather");
    expect(t.replies()).toEqual(["pong 1", "Unknown command `weather`. Say `!help` for the list."]);
    await t.say("!weather"); // in a chat every `!word` is for us
    expect(t.lastReply()).toBe("Unknown command `weather`. Say `!help` for the list.");
  });

  it("does not answer `Unknown command` to a message that replies (XEP-0461) to its own message", async () => {
    const t = await createHarness(makeBot());
    await t.joinRoom(LOBBY, "helper");
    const reply = (to: string) => [xml("reply", { xmlns: NS_REPLY, to, id: "m1" })];
    await t.groupchat(LOBBY, "otherbot", "helper: hi! say !help", { children: reply(`${LOBBY}/helper`) });
    await t.groupchat(LOBBY, "carol", "helper: hi", { children: reply(`${LOBBY}/dave`) });
    expect(t.replies()).toEqual(["Unknown command `hi`. Say `!help` for the list."]);
  });

  it("does not run a command again for its XEP-0308 correction, unless the command opts in", async () => {
    const t = await createHarness(makeBot());
    await t.push(msg("!ping", { id: "a1" }));
    await t.push(msg("!ping ", { id: "a2" }, xml("replace", { xmlns: NS.correct, id: "a1" })));
    await t.push(msg("!png", { id: "b1" })); // a typo: nothing ran, so its correction is a new command
    await t.push(msg("!ping", { id: "b2" }, xml("replace", { xmlns: NS.correct, id: "b1" })));
    await t.push(msg("!ping", { id: "b3" }, xml("replace", { xmlns: NS.correct, id: "b1" }))); // corrected again
    await t.push(msg("!echo helo", { id: "c1" }));
    await t.push(msg("!echo hello", { id: "c2" }, xml("replace", { xmlns: NS.correct, id: "c1" })));
    await t.push(msg("!ping", { id: "bob1", from: "bob@botrun.test/pc" }, xml("replace", { xmlns: NS.correct, id: "a1" }))); // alice's id, from bob: his own message
    expect(t.replies()).toEqual(["pong 1", "Unknown command `png`. Did you mean `!ping`?", "pong 2", "helo", "hello", "pong 3"]);
  });

  it("does not spend time on a 250 KB command word, nor echo it back", async () => {
    const word = "x".repeat(250_000);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) expect(closest(word, ["help", "ping", "echo", "remind"])).toBeUndefined();
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(100); // was ~0.9 s per message (issue 9.9)
    const t = await createHarness(makeBot());
    await t.say(`!${word}`);
    expect(t.lastReply()).toBe(`Unknown command \`${"x".repeat(40)}…\`. Say \`!help\` for the list.`);
  });
});
