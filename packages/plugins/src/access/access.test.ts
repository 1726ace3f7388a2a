// Access control: admins, per-command user/room rules, wildcard domains, clear refusals.
import { Bot, xml, NS } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import { commands } from "../commands/index.ts";
import { access } from "./index.ts";

function makeBot() {
  const acl = access({
    admins: ["boss@botrun.test"],
    adminOnly: ["shutdown"],
    rules: {
      deploy: { allowUsers: ["*@ops.test", "admins"], denyUsers: ["intern@ops.test"] },
      roll: { allowRooms: ["games@conference.botrun.test"], allowPrivate: false },
    },
  });
  const cmds = commands().guard(acl.guard);
  cmds.command("shutdown", (ctx) => ctx.reply("bye"));
  cmds.command("deploy", (ctx) => ctx.reply("deploying"));
  cmds.command("roll", (ctx) => ctx.reply("4"));
  cmds.command("purge", { tags: ["admin"] }, (ctx) => ctx.reply("purged"));
  const bot = new Bot({ name: "acl" });
  bot.install(cmds);
  bot.command("core", acl.require("shutdown"), (ctx) => ctx.reply("core ok"));
  return bot;
}

describe("access control", () => {
  it("lets admins run admin-only commands and tells others why not", async () => {
    const t = await createHarness(makeBot());
    await t.message("boss@botrun.test/pc", "!shutdown");
    await t.message("alice@botrun.test/pc", "!shutdown");
    await t.message("alice@botrun.test/pc", "!purge");
    await t.message("boss@botrun.test/pc", "!purge");
    expect(t.replies()).toEqual([
      "bye",
      "Sorry, you are not allowed to use `shutdown` (admins only).",
      "Sorry, you are not allowed to use `purge` (admins only).",
      "purged",
    ]);
  });

  it("matches wildcard domains, deny before allow, admins via the `admins` keyword", async () => {
    const t = await createHarness(makeBot());
    await t.message("dev@ops.test/a", "!deploy");
    await t.message("intern@ops.test/a", "!deploy");
    await t.message("eve@evil.test/a", "!deploy");
    await t.message("boss@botrun.test/a", "!deploy");
    expect(t.replies()).toEqual([
      "deploying",
      "Sorry, you are not allowed to use `deploy`.",
      "Sorry, you are not allowed to use `deploy`.",
      "deploying",
    ]);
  });

  it("restricts by room, and refuses user rules in rooms that hide real JIDs", async () => {
    const t = await createHarness(makeBot());
    await t.joinRoom("games@conference.botrun.test", "acl");
    await t.joinRoom("lobby@conference.botrun.test", "acl");
    await t.groupchat("games@conference.botrun.test", "carol", "!roll");
    await t.groupchat("lobby@conference.botrun.test", "carol", "!roll");
    await t.say("!roll");
    await t.groupchat("lobby@conference.botrun.test", "dev", "!deploy");
    expect(t.replies()).toEqual([
      "4",
      "Sorry, you are not allowed to use `roll` in this room.",
      "Sorry, you are not allowed to use `roll` in a private chat.",
      "Sorry, you are not allowed to use `deploy` here (I cannot see who you are in this room).",
    ]);
  });

  it("hides refused commands from help", async () => {
    const t = await createHarness(makeBot());
    await t.say("!help");
    expect(t.lastReply()).not.toContain("shutdown");
    await t.message("boss@botrun.test/x", "!help");
    expect(t.lastReply()).toContain("!shutdown");
  });

  it("guards core bot.command handlers with require()", async () => {
    const t = await createHarness(makeBot());
    await t.say("!core");
    await t.message("boss@botrun.test/x", "!core");
    expect(t.replies().slice(-2)).toEqual(["Sorry, you are not allowed to use `shutdown` (admins only).", "core ok"]);
  });

  it("uses the real JID of a room occupant when the room reveals it", async () => {
    const acl = access({ admins: ["boss@botrun.test"] });
    const bot = new Bot({ name: "acl2" });
    bot.use((ctx, next) => {
      if (ctx.room && ctx.nick === "B") ctx.locals.realJid = "boss@botrun.test/pc";
      return next();
    });
    bot.on("message:groupchat:body", (ctx) => ctx.reply(acl.isAdmin(ctx) ? "admin" : "not admin"));
    const t = await createHarness(bot);
    await t.joinRoom("r@conference.botrun.test", "acl2");
    await t.groupchat("r@conference.botrun.test", "B", "hi");
    await t.groupchat("r@conference.botrun.test", "C", "hi");
    expect(t.replies()).toEqual(["admin", "not admin"]);
    void xml;
    void NS;
  });
});
