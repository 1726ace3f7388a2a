// Message manners: no reply to headline or error messages (RFC 6121 §5.2.2), XEP-0359 origin-id
// on every outgoing message, kept across a resend of the same stanza, XEP-0308 corrections seen.
import { describe, expect, it } from "vitest";
import { Bot } from "../bot.ts";
import { silentLogger } from "../logger.ts";
import { NS, xml } from "../stanza.ts";
import type { Element } from "@xmpp/xml";
import { createHarness } from "../testing/index.ts";
import { Outbox } from "../xmpp/outbox.ts";

const echo = () => {
  const bot = new Bot({ name: "m" });
  bot.on("message", (ctx) => ctx.reply(`got ${ctx.text ?? "?"}`));
  return bot;
};

describe("message manners", () => {
  it("ctx.reply sends nothing to a headline or an error message, but answers chat and normal", async () => {
    const t = await createHarness(echo());
    expect(await t.message("news@x.org", "breaking", { type: "headline" })).toEqual([]);
    expect(await t.error("gone@x.org/a", "recipient-unavailable")).toEqual([]);
    await t.message("bob@x.org/a", "hi", { type: "normal" });
    await t.say("yo");
    expect(t.replies()).toEqual(["got hi", "got yo"]);
  });

  it("every outgoing message carries an origin-id: message() sets it, the runtime adds it to hand-built ones", async () => {
    const bot = new Bot({ name: "m" });
    bot.on("message:body", async (ctx) => {
      await ctx.reply("built");
      await ctx.sendStanza(xml("message", { to: ctx.from, type: "chat" }, xml("body", {}, "by hand")));
    });
    const t = await createHarness(bot);
    const [a, b] = await t.say("x");
    for (const el of [a!, b!]) {
      const oid = el.getChildren("origin-id", NS.sid);
      expect(oid).toHaveLength(1);
      expect(oid[0]!.attrs.id).toBe(el.attrs.id);
      expect(String(el.attrs.id)).not.toBe("");
    }
    expect(a!.attrs.id).not.toBe(b!.attrs.id);
  });

  it("the outbox resends the same stanza object after a failed write, so the origin-id stays the same", async () => {
    const written: string[] = [];
    let fail = true;
    const outbox = new Outbox({ limit: 10, overflow: "reject", logger: silentLogger });
    const wire = {
      write: async (el: Element) => {
        if (fail) throw new Error("socket gone");
        written.push(String(el.getChild("origin-id", NS.sid)?.attrs.id));
      },
    };
    const t = await createHarness(echo());
    const [reply] = await t.say("hi");
    const id = String(reply!.getChild("origin-id", NS.sid)?.attrs.id);
    outbox.attach(wire);
    await outbox.push(reply!);
    expect(await outbox.drain(50)).toBe(false); // the write failed: held for the next connection
    fail = false;
    outbox.attach(wire);
    expect(await outbox.drain(5000)).toBe(true);
    expect(written).toEqual([id]);
  });

  it("ctx.correction is the id a XEP-0308 correction replaces; undefined otherwise", async () => {
    const seen: Array<string | undefined> = [];
    const bot = new Bot({ name: "m" });
    bot.on("message:body", (ctx) => void seen.push(ctx.correction));
    const t = await createHarness(bot);
    await t.say("!roll 6");
    await t.say("!roll 20", { children: [xml("replace", { xmlns: NS.correct, id: "m-1" })] });
    await t.say("other", { children: [xml("replace", { xmlns: "urn:other", id: "m-2" })] });
    expect(seen).toEqual([undefined, "m-1", undefined]);
  });
});
