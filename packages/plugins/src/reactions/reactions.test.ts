// Reactions (XEP-0444), quoting replies (XEP-0461 + XEP-0428) and corrections (XEP-0308), offline.
import { Bot, message, NS, xml, type Context, type Element } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import { NS_MSG, reactions, readCorrection, readReactions, readReply, type ReactionsFlavor } from "./index.ts";

type C = Context & ReactionsFlavor;
const ROOM = "lobby@conference.botrun.test";
const only = (out: Element[]) => {
  expect(out).toHaveLength(1);
  return out[0]!;
};

function bot(): Bot<C> {
  const b = new Bot<C>({ name: "rx", plugins: [reactions()] });
  b.hears("like", (ctx) => ctx.react("👍"));
  b.hears("both", (ctx) => ctx.react(["👍", "🎉"]));
  b.hears("unlike", (ctx) => ctx.react([]));
  b.hears(/^ask/, async (ctx) => {
    await ctx.replyQuoting("yes");
  });
  b.hears("slow", async (ctx) => {
    const sent = await ctx.replyEditable("working…");
    const again = await ctx.edit(sent, "almost");
    await ctx.edit(again, "done");
  });
  return b;
}

describe("reactions", () => {
  it("react() in a chat refers to the message's id, goes to the sender's device, with a store hint", async () => {
    const t = await createHarness(bot());
    const el = only(await t.say("like", { id: "m1" }));
    expect(readReactions(el)).toEqual({ id: "m1", emojis: ["👍"] });
    expect(el.attrs).toMatchObject({ to: t.user, type: "chat" });
    expect(el.getChild("store", NS_MSG.hints)).toBeDefined();
    expect(el.getChild("body")).toBeUndefined();
    expect(readReactions(only(await t.say("both", { id: "m2" })))).toEqual({ id: "m2", emojis: ["👍", "🎉"] });
    expect(readReactions(only(await t.say("unlike", { id: "m2" })))).toEqual({ id: "m2", emojis: [] });
  });

  it("react() in a room refers to the room's stanza-id, not the sender's id nor a forged stanza-id", async () => {
    const t = await createHarness(bot());
    await t.joinRoom(ROOM, "rx");
    const sids = [xml("stanza-id", { xmlns: NS.sid, by: "evil@example.org", id: "forged" }), xml("stanza-id", { xmlns: NS.sid, by: ROOM, id: "room-7" })];
    const el = only(await t.groupchat(ROOM, "carol", "like", { id: "carol-1", children: sids }));
    expect(el.attrs).toMatchObject({ to: ROOM, type: "groupchat" });
    expect(readReactions(el)).toEqual({ id: "room-7", emojis: ["👍"] });
    // A room without stable ids: the message's id attribute.
    expect(readReactions(only(await t.groupchat(ROOM, "carol", "like", { id: "carol-2" })))?.id).toBe("carol-2");
  });

  it("a message without an id to refer to: the handler's error, nothing sent", async () => {
    const b = new Bot<C>({ name: "rx", plugins: [reactions()] });
    const errors: unknown[] = [];
    b.catch((e) => void errors.push(e));
    b.hears("like", (ctx) => ctx.react("👍"));
    const t = await createHarness(b);
    const out = await t.push(xml("message", { from: t.user, to: "bot@botrun.test/test", type: "chat" }, xml("body", {}, "like")));
    expect(out).toEqual([]);
    expect(String(errors[0])).toMatch(/no id to refer to/);
  });
});

describe("replyQuoting", () => {
  it("quotes the original as a XEP-0428 fallback that readers strip, and names the message and its author", async () => {
    const t = await createHarness(bot());
    const el = only(await t.say("ask: café? 🎂\nreally", { id: "q1" }));
    expect(el.getChildText("body")).toBe("> ask: café? 🎂\n> really\nyes");
    const fb = el.getChild("fallback", NS_MSG.fallback);
    expect(fb?.attrs.for).toBe(NS_MSG.reply);
    // Code points, not UTF-16 units: the cake is one.
    expect(fb?.getChild("body")?.attrs).toEqual({ start: "0", end: String("> ask: café? 🎂\n> really\n".length - 1) });
    expect(readReply(el)).toEqual({ id: "q1", to: t.user, text: "yes" });
  });

  it("in a room: to the room, the room's stanza-id, the occupant as author", async () => {
    const t = await createHarness(bot());
    await t.joinRoom(ROOM, "rx");
    const sid = xml("stanza-id", { xmlns: NS.sid, by: ROOM, id: "room-9" });
    const el = only(await t.groupchat(ROOM, "carol", "ask", { id: "c1", children: [sid] }));
    expect(el.attrs).toMatchObject({ to: ROOM, type: "groupchat" });
    expect(readReply(el)).toEqual({ id: "room-9", to: `${ROOM}/carol`, text: "yes" });
  });
});

describe("edit", () => {
  it("corrects the bot's own message: same addressee and type, new ids, every correction naming the original", async () => {
    const t = await createHarness(bot());
    const [first, second, third] = await t.say("slow");
    const id = String(first!.attrs.id);
    expect(first!.getChildText("body")).toBe("working…");
    for (const [el, text] of [[second!, "almost"], [third!, "done"]] as const) {
      expect(readCorrection(el)).toEqual({ id, text });
      expect(el.attrs).toMatchObject({ to: t.user, type: "chat" });
      expect(el.attrs.id).not.toBe(id);
      expect(el.getChild("origin-id", NS.sid)?.attrs.id).toBe(el.attrs.id);
    }
    expect(second!.attrs.id).not.toBe(third!.attrs.id);
  });

  it("corrects a stanza built with message() and sent in a room", async () => {
    const b = new Bot<C>({ name: "rx", plugins: [reactions()] });
    b.hears("go", async (ctx) => {
      const m = message({ to: ROOM, type: "groupchat", body: "tpyo" });
      await ctx.sendStanza(m);
      await ctx.edit(m, "typo");
    });
    const t = await createHarness(b);
    await t.joinRoom(ROOM, "rx");
    const out = (await t.groupchat(ROOM, "carol", "go")).filter((el) => el.attrs.to === ROOM);
    expect(out).toHaveLength(2);
    expect(readCorrection(out[1]!)).toEqual({ id: String(out[0]!.attrs.id), text: "typo" });
    expect(out[1]!.attrs.type).toBe("groupchat");
  });

  it("advertises reactions and replies in disco#info", async () => {
    const t = await createHarness(bot());
    const res = await t.iq("get", xml("query", { xmlns: NS.discoInfo }));
    const vars = res.getChild("query")!.getChildren("feature").map((f) => f.attrs.var);
    expect(vars).toEqual(expect.arrayContaining([NS_MSG.reactions, NS_MSG.reply]));
  });
});
