// Roster: subscription policy, presence view, own status re-sent on every new session.
import { Bot, NS, xml, type Element } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import { roster, type RosterOptions } from "./index.ts";

function setup(opts: RosterOptions = {}) {
  const r = roster(opts);
  const bot = new Bot({ name: "rosterbot" });
  bot.install(r);
  bot.command("who", (ctx) =>
    ctx.reply(
      [...r.whoIsOnline()].map(([b, res]) => `${b}: ${res.map((p) => `${p.show}${p.status ? ` (${p.status})` : ""}`).join(", ")}`).join("\n") ||
        "nobody",
    ),
  );
  return { r, bot };
}
// Without the XEP-0115 caps the runtime adds to every available presence (tested in core).
const stanzas = (els: readonly { toString(): string }[]) => els.map((e) => e.toString().replace(/<c xmlns="http:\/\/jabber.org\/protocol\/caps"[^>]*\/>/, ""));

describe("roster plugin", () => {
  it("accept-all answers subscribed and subscribes back once", async () => {
    const { bot } = setup();
    const t = await createHarness(bot);
    const out = await t.subscribe("alice@botrun.test");
    expect(stanzas(out)).toEqual(['<presence to="alice@botrun.test" type="subscribed"/>', '<presence to="alice@botrun.test" type="subscribe"/>']);
    const again = await t.subscribe("alice@botrun.test");
    expect(stanzas(again)).toEqual(['<presence to="alice@botrun.test" type="subscribed"/>']);
  });

  it("follows the server's roster: subscribes back again after the contact removed and re-added it, never twice while asked", async () => {
    const { r, bot } = setup();
    const t = await createHarness(bot);
    const rosterPush = (sub: string, ask = false) =>
      t.push(xml("iq", { type: "set", id: `p-${sub}-${ask}` }, xml("query", { xmlns: NS.roster }, xml("item", { jid: "carol@botrun.test", subscription: sub, ...(ask ? { ask: "subscribe" } : {}) }))));
    const types = (els: readonly Element[]) => els.filter((e) => e.name === "presence").map((e) => e.attrs.type);
    expect(types(await t.subscribe("carol@botrun.test"))).toEqual(["subscribed", "subscribe"]);
    await rosterPush("from", true); // our request is pending
    expect(types(await t.subscribe("carol@botrun.test"))).toEqual(["subscribed"]);
    await rosterPush("both");
    expect(r.subscriptionOf("carol@botrun.test/phone")).toBe("both");
    // carol removes the bot (the server pushes `none`), then adds it again in the same session
    await t.presence("carol@botrun.test", "unsubscribe");
    await rosterPush("none");
    expect(types(await t.subscribe("carol@botrun.test"))).toEqual(["subscribed", "subscribe"]);
    await rosterPush("both");
    expect(r.contacts().map((c) => `${c.jid} ${c.subscription}`)).toEqual(["carol@botrun.test both"]);
  });

  it("an allow-list accepts matching domains and refuses others", async () => {
    const seen: Array<[string, boolean]> = [];
    const { bot } = setup({ subscriptions: { allow: ["*@friends.test", "boss@work.test"] }, onSubscription: (f, ok) => seen.push([f, ok]) });
    const t = await createHarness(bot);
    expect(stanzas(await t.subscribe("ann@friends.test"))[0]).toBe('<presence to="ann@friends.test" type="subscribed"/>');
    expect(stanzas(await t.subscribe("boss@work.test/pc"))[0]).toBe('<presence to="boss@work.test" type="subscribed"/>');
    expect(stanzas(await t.subscribe("eve@evil.test"))).toEqual(['<presence to="eve@evil.test" type="unsubscribed"/>']);
    expect(seen).toEqual([["ann@friends.test", true], ["boss@work.test", true], ["eve@evil.test", false]]);
  });

  it("deny refuses everyone", async () => {
    const { bot } = setup({ subscriptions: "deny" });
    const t = await createHarness(bot);
    expect(stanzas(await t.subscribe("alice@botrun.test"))).toEqual(['<presence to="alice@botrun.test" type="unsubscribed"/>']);
  });

  it("tracks presence per full JID with show and status, and clears on unavailable", async () => {
    const { r, bot } = setup();
    const t = await createHarness(bot);
    await t.presence("alice@botrun.test/phone", "available", { show: "away", status: "lunch" });
    await t.presence("alice@botrun.test/laptop");
    await t.presence("bob@botrun.test/x", "available", { show: "dnd" });
    expect(r.presenceOf("alice@botrun.test").map((p) => [p.jid, p.show, p.status])).toEqual([
      ["alice@botrun.test/phone", "away", "lunch"],
      ["alice@botrun.test/laptop", "online", undefined],
    ]);
    await t.presence("alice@botrun.test/phone", "unavailable");
    expect(r.presenceOf("alice@botrun.test")).toHaveLength(1);
    await t.presence("alice@botrun.test/laptop", "unavailable");
    expect(r.isOnline("alice@botrun.test")).toBe(false);
    await t.say("!who");
    expect(t.lastReply()).toBe("bob@botrun.test: dnd");
  });

  it("ignores room presences and presence updates still reach later handlers", async () => {
    const { r } = setup();
    const bot = new Bot({ name: "x" });
    bot.install(r);
    let presences = 0;
    bot.on("presence", () => void presences++);
    const t = await createHarness(bot);
    await t.joinRoom("room@conference.botrun.test", "x");
    await t.presence("bob@botrun.test/x");
    expect(r.whoIsOnline().size).toBe(1);
    expect(presences).toBe(2); // the room self-presence and bob's
  });

  it("announces its status on start, on setStatus, and again after a reconnect (and forgets stale presences)", async () => {
    const { r, bot } = setup({ status: { text: "ready", show: "chat" } });
    const t = await createHarness(bot);
    expect(stanzas(t.sent)).toEqual(["<presence><show>chat</show><status>ready</status></presence>"]);
    await r.setStatus("busy", "dnd");
    await t.presence("bob@botrun.test/x");
    t.clear();
    await t.reconnect();
    expect(stanzas(t.sent)).toEqual(["<presence><show>dnd</show><status>busy</status></presence>"]);
    expect(r.whoIsOnline().size).toBe(0);
  });
});
