// ctx.account and per-account chat state, with the offline test kit: one bot definition serving two
// accounts (two runtimes, each with the fleet's context member, as a fleet worker runs them) over
// one shared session storage. Handlers see which account a stanza came to; the session plugin's
// default keys carry the account there, and stay as they were outside a fleet.
import { Bot, type Context } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { memoryStorage, session, type SessionFlavor, type SessionKey, type StorageAdapter } from "@botrun/plugins";
import { accountOf, fleetContext, perAccountChat, type AccountFlavor } from "@botrun/fleet";
import { describe, expect, it } from "vitest";

type Ctx = Context & AccountFlavor & SessionFlavor<{ count: number }>;

function countingBot(storage: StorageAdapter<{ count: number }>, key: SessionKey | undefined) {
  const bot = new Bot<Ctx>({ name: "desk" });
  bot.install(session<{ count: number }, Ctx>({ initial: () => ({ count: 0 }), storage, ...(key && { key }) }));
  bot.on("message:body", (ctx) => {
    ctx.session.count++;
    return ctx.reply(`${ctx.account} #${ctx.session.count}`);
  });
  return bot;
}

/** The same bot on two fleet accounts, alice writing twice to the first and once to the second; the stored keys. */
async function run(key: SessionKey | undefined): Promise<{ replies: string[]; keys: string[] }> {
  const storage = memoryStorage<{ count: number }>();
  const bot = countingBot(storage, key);
  const runtime = { context: fleetContext };
  const sales = await createHarness(bot, { jid: "Sales@Example.org/botrun", runtime });
  const help = await createHarness(bot, { jid: "help@example.org/botrun", runtime });
  const replies: string[] = [];
  const keys = new Set<string>();
  const write = storage.write.bind(storage);
  storage.write = (k, v) => (keys.add(k), write(k, v));
  for (const [t, text] of [[sales, "a"], [sales, "b"], [help, "c"]] as const) {
    const sent = await t.say(text);
    replies.push(sent.map((el) => el.getChildText("body")).join());
  }
  await Promise.all([sales.stop(), help.stop()]);
  return { replies, keys: [...keys].sort() };
}

const APART = ["sales@example.org #1", "sales@example.org #2", "help@example.org #1"];

describe("ctx.account in a fleet", () => {
  it("handlers see the bare JID of the account; the session plugin's default key keeps each account's chat state apart", async () => {
    const { replies, keys } = await run(undefined);
    expect(replies).toEqual(APART);
    expect(keys.every((k) => k.startsWith("acct:"))).toBe(true);
    expect(keys).toHaveLength(2);
  });

  it("perAccountChat gives the same keys (for code outside a fleet runtime)", async () => {
    expect(await run(perAccountChat)).toEqual(await run(undefined));
  });

  it("outside a fleet there is no ctx.account and the default key is unchanged (stored sessions stay where they are)", async () => {
    const keys: string[] = [];
    const storage = memoryStorage<{ count: number }>();
    const write = storage.write.bind(storage);
    storage.write = (k, v) => (keys.push(k), write(k, v));
    const bot = new Bot<Context & SessionFlavor<{ count: number }>>({ name: "solo" });
    bot.install(session({ initial: () => ({ count: 0 }), storage }));
    bot.on("message:body", (ctx) => {
      ctx.session.count++;
      return ctx.reply("account" in ctx ? "has account" : "no account");
    });
    const t = await createHarness(bot);
    await t.say("hi");
    await t.stop();
    expect(t.replies()).toEqual(["no account"]);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^chat:/);
  });

  it("ctx.account is accountOf(ctx), and a second declaration of it stops the start naming both", async () => {
    const seen: string[] = [];
    const bot = new Bot<Context & AccountFlavor>({ name: "x" });
    bot.on("message", (ctx) => void seen.push(ctx.account, accountOf(ctx)));
    const t = await createHarness(bot, { jid: "a@h/r", runtime: { context: fleetContext } });
    await t.say("hi");
    await t.stop();
    expect(seen).toEqual(["a@h", "a@h"]);
    const clash = createHarness(new Bot({ name: "y" }), { runtime: { context: { ...fleetContext, other: { get account() { return "z"; } } } } });
    await expect(clash).rejects.toThrow(/other adds ctx\.account, which @botrun\/fleet adds too/);
  });
});
