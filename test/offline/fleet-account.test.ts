// ctx.account and per-account chat state, with the offline test kit: one bot definition serving two
// accounts (two runtimes, as a fleet worker runs them) over one shared session storage. Handlers see
// which account a stanza came to; perAccountChat keeps alice's state apart per account, where the
// plugin's default per-chat key would mix the two accounts' state.
import { Bot, type Context } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { memoryStorage, session, type SessionFlavor, type SessionKey, type StorageAdapter } from "@botrun/plugins";
import { accountOf, perAccountChat } from "@botrun/fleet";
import { describe, expect, it } from "vitest";

type Ctx = Context & SessionFlavor<{ count: number }>;

function countingBot(storage: StorageAdapter<{ count: number }>, key: SessionKey) {
  const bot = new Bot<Ctx>({ name: "desk" });
  bot.install(session<{ count: number }, Ctx>({ initial: () => ({ count: 0 }), storage, key }));
  bot.on("message:body", (ctx) => {
    ctx.session.count++;
    return ctx.reply(`${ctx.account} #${ctx.session.count}`);
  });
  return bot;
}

/** The same bot on two accounts, alice writing twice to the first and once to the second. */
async function run(key: SessionKey): Promise<string[]> {
  const storage = memoryStorage<{ count: number }>();
  const bot = countingBot(storage, key);
  const sales = await createHarness(bot, { jid: "Sales@Example.org/botrun" });
  const help = await createHarness(bot, { jid: "help@example.org/botrun" });
  const out: string[] = [];
  for (const [t, text] of [[sales, "a"], [sales, "b"], [help, "c"]] as const) {
    const sent = await t.say(text);
    out.push(sent.map((el) => el.getChildText("body")).join());
  }
  await Promise.all([sales.stop(), help.stop()]);
  return out;
}

describe("ctx.account in a fleet", () => {
  it("handlers see the bare JID of the account a stanza came to; per-account keys keep each account's chat state apart", async () => {
    expect(await run(perAccountChat)).toEqual(["sales@example.org #1", "sales@example.org #2", "help@example.org #1"]);
  });

  it("the default per-chat key would share alice's state across the two accounts (why fleet bots key by account)", async () => {
    expect(await run("chat")).toEqual(["sales@example.org #1", "sales@example.org #2", "help@example.org #3"]);
  });

  it("ctx.account is accountOf(ctx)", async () => {
    const seen: string[] = [];
    const bot = new Bot({ name: "x" });
    bot.on("message", (ctx) => void seen.push(ctx.account, accountOf(ctx)));
    const t = await createHarness(bot, { jid: "a@h/r" });
    await t.say("hi");
    await t.stop();
    expect(seen).toEqual(["a@h", "a@h"]);
  });
});
