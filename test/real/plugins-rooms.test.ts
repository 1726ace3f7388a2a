// The rooms and roster plugins against a real Prosody (MUC at conference.localhost): joining,
// answering mentions without answering its own echoes, skipping replayed history, nick
// conflicts, rejoining after a kick but not after a ban, mediated invites (believed from a real room, not from a
// user's own JID), and subscription handling. The bot runs in-process on botrun's XMPP transport;
// the people are plain xmpp.js clients.
import { Bot, BotRuntime, createXmppTransport, loadConfig, silentLogger, type Element } from "@botrun/core";
import { commands, mentioned, roster, rooms, type Rooms } from "@botrun/plugins";
import { xml } from "@xmpp/client";
import type { EventEmitter } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { startRawClient, type RawClient } from "./helpers/raw-client.ts";

let prosody: ProsodyHandle;
let runtime: BotRuntime | undefined;
let r: Rooms;
const joinEvents: string[] = [];
const removals: string[] = [];
const heard: string[] = [];
const people: RawClient[] = [];
let alice: RawClient;
let carol: RawClient;

const room = (name: string) => `${name}@${prosody.mucDomain}`;

/** The client as the event emitter it is (the local typings declare only `on`). */
const emitter = (c: RawClient) => c.xmpp as unknown as EventEmitter;

/** Resolve with the first stanza `c` receives (from now on) that matches, or fail after `ms`. */
function nextStanza(c: RawClient, pred: (el: Element) => boolean, ms = 15_000): Promise<Element> {
  return new Promise((resolve, reject) => {
    const on = (el: Element) => {
      if (!pred(el)) return;
      clearTimeout(t);
      emitter(c).removeListener("stanza", on);
      resolve(el);
    };
    const t = setTimeout(() => {
      emitter(c).removeListener("stanza", on);
      reject(new Error(`no matching stanza within ${ms} ms`));
    }, ms);
    c.xmpp.on("stanza", on);
  });
}

/** Poll a condition on events we do not own (bounded). */
async function until(cond: () => boolean, ms = 15_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** An owner's muc#admin request (kick, ban); resolves with the server's answer. */
async function mucAdmin(c: RawClient, roomJid: string, item: Element): Promise<Element> {
  const id = `adm-${Math.random().toString(36).slice(2)}`;
  const answer = nextStanza(c, (el) => el.name === "iq" && el.attrs.id === id);
  await c.xmpp.send(xml("iq", { type: "set", to: roomJid, id }, xml("query", { xmlns: "http://jabber.org/protocol/muc#admin" }, item)));
  return answer;
}

/** An owner submits room configuration fields (XEP-0045 §10.2); resolves with the server's answer. */
async function mucOwnerConfig(c: RawClient, roomJid: string, fields: Record<string, string>): Promise<Element> {
  const id = `cfg-${Math.random().toString(36).slice(2)}`;
  const answer = nextStanza(c, (el) => el.name === "iq" && el.attrs.id === id);
  const field = (name: string, value: string) => xml("field", { var: name }, xml("value", {}, value));
  const form = xml("x", { xmlns: "jabber:x:data", type: "submit" }, field("FORM_TYPE", "http://jabber.org/protocol/muc#roomconfig"), ...Object.entries(fields).map(([k, v]) => field(k, v)));
  await c.xmpp.send(xml("iq", { type: "set", to: roomJid, id }, xml("query", { xmlns: "http://jabber.org/protocol/muc#owner" }, form)));
  return answer;
}

/** A person joins a room and waits for their own self-presence. */
async function joinAs(c: RawClient, roomJid: string, nick: string): Promise<void> {
  const self = nextStanza(c, (el) => el.name === "presence" && el.attrs.from === `${roomJid}/${nick}`);
  await c.xmpp.send(xml("presence", { to: `${roomJid}/${nick}` }, xml("x", { xmlns: "http://jabber.org/protocol/muc" })));
  await self;
}

const groupchatFrom = (from: string, body?: string) => (el: Element) =>
  el.name === "message" && el.attrs.type === "groupchat" && el.attrs.from === from && el.getChild("body") !== undefined && (body === undefined || el.getChildText("body") === body);

beforeAll(async () => {
  prosody = await startProsody();
  for (const [u, p] of [["roomsbot", "bot-pw-1"], ["alice", "alice-pw-1"], ["carol", "carol-pw-1"]] as const) await prosody.register(u, p);
  const base = { host: prosody.host, directTlsPort: prosody.directTlsPort, domain: prosody.domain, caFile: prosody.caFile };
  alice = await startRawClient({ ...base, username: "alice", password: "alice-pw-1", resource: "a" });
  carol = await startRawClient({ ...base, username: "carol", password: "carol-pw-1", resource: "c" });
  people.push(alice, carol);

  // Before the bot exists: a message in "history" (to be skipped) and carol holding the nick "helper" in "busy".
  await joinAs(alice, room("history"), "alice");
  await alice.xmpp.send(xml("message", { to: room("history"), type: "groupchat" }, xml("body", {}, "old message")));
  await nextStanza(alice, groupchatFrom(`${room("history")}/alice`, "old message"));
  await joinAs(carol, room("busy"), "helper");

  r = rooms({
    join: [room("lobby"), room("history"), room("busy")],
    nick: "helper",
    invites: { allow: [`alice@${prosody.domain}`] },
    onJoin: (rm, nick) => joinEvents.push(`${rm}/${nick}`),
    rejoinAfterKick: { delayMs: 300, maxDelayMs: 5000 },
    onRemoved: (rm, how, d) => removals.push(`${rm} ${how} by ${d.actor ?? "?"}: ${d.reason ?? ""}`),
  });
  const bot = new Bot({ name: "roomsbot" });
  const cmds = commands();
  cmds.command("ping", (ctx) => ctx.reply("pong"));
  bot.install(roster({ subscriptions: { allow: [`*@${prosody.domain}`] } }), r, cmds);
  bot.on("message:groupchat:body", (ctx) => {
    heard.push(`${ctx.room}/${ctx.nick}: ${ctx.text}`);
    return mentioned(ctx) ? ctx.reply(`yes, ${ctx.nick}?`) : undefined;
  });
  const config = loadConfig({
    XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
    XMPP_DOMAIN: prosody.domain,
    XMPP_CA_FILE: prosody.caFile,
    XMPP_USERNAME: "roomsbot",
    XMPP_PASSWORD: "bot-pw-1",
    XMPP_START_ATTEMPTS: "1",
  })!;
  runtime = new BotRuntime(bot, createXmppTransport({ config, logger: silentLogger }), { logger: silentLogger });
  await runtime.start();
  await until(() => r.joined().size === 3, 20_000, "the bot to join its three rooms");
});

afterAll(async () => {
  await runtime?.stop();
  for (const p of people) await p.stop();
  await prosody?.stop();
});

describe("rooms and roster on real Prosody", () => {
  it("joins configured rooms, taking nick_ where the nick is taken", () => {
    expect(r.joined()).toEqual(
      new Map([
        [room("lobby"), "helper"],
        [room("history"), "helper"],
        [room("busy"), "helper_"],
      ]),
    );
  });

  it("answers a mention and a command once each, never its own echo", async () => {
    await joinAs(alice, room("lobby"), "alice");
    const bot = `${room("lobby")}/helper`;
    const botLines: string[] = [];
    const collect = (el: Element) => {
      if (groupchatFrom(bot)(el)) botLines.push(el.getChildText("body")!);
    };
    alice.xmpp.on("stanza", collect);
    try {
      let reply = nextStanza(alice, groupchatFrom(bot, "yes, alice?"));
      await alice.xmpp.send(xml("message", { to: room("lobby"), type: "groupchat" }, xml("body", {}, "helper: are you there?")));
      await reply;
      reply = nextStanza(alice, groupchatFrom(bot, "pong"));
      await alice.xmpp.send(xml("message", { to: room("lobby"), type: "groupchat" }, xml("body", {}, "!ping")));
      await reply;
      // A marker round trip: anything the bot said in between (an echo loop) would be seen by now.
      reply = nextStanza(alice, groupchatFrom(bot, "pong"));
      await alice.xmpp.send(xml("message", { to: room("lobby"), type: "groupchat" }, xml("body", {}, "!ping")));
      await reply;
      expect(botLines).toEqual(["yes, alice?", "pong", "pong"]);
      expect(heard.filter((h) => h.startsWith(`${room("lobby")}/helper:`))).toEqual([]);
    } finally {
      emitter(alice).removeListener("stanza", collect);
    }
  });

  it("skips the room's replayed history", async () => {
    await alice.xmpp.send(xml("message", { to: room("history"), type: "groupchat" }, xml("body", {}, "fresh message")));
    await until(() => heard.includes(`${room("history")}/alice: fresh message`), 15_000, "the fresh message");
    expect(heard.some((h) => h.endsWith("old message"))).toBe(false);
  });

  it("accepts a subscription from its domain and subscribes back", async () => {
    // Prosody does not forward the `subscribed` itself; it sends the bot's current presence,
    // which carol only gets once her subscription was approved.
    const subscribed = nextStanza(carol, (el) => el.name === "presence" && el.attrs.type === undefined && String(el.attrs.from).startsWith(`roomsbot@${prosody.domain}/`));
    const subscribeBack = nextStanza(carol, (el) => el.name === "presence" && el.attrs.type === "subscribe" && String(el.attrs.from).startsWith("roomsbot@"));
    await carol.xmpp.send(xml("presence", { to: `roomsbot@${prosody.domain}`, type: "subscribe" }));
    await subscribed;
    await subscribeBack;
  });

  it("accepts a mediated invite relayed by a real room, and ignores one a user forges from her own JID (issue 9.3)", async () => {
    const party = room("party");
    const sentTo: string[] = [];
    const onSent = (el: Element) => void sentTo.push(`${el.name} ${String(el.attrs.to ?? "")}`);
    runtime!.on("sent", onSent);
    try {
      await joinAs(alice, party, "alice");
      const mucUser = "http://jabber.org/protocol/muc#user";
      // Forged: alice sends the "room's" invite herself; the bot must not take her JID for a room.
      await alice.xmpp.send(xml("message", { to: `roomsbot@${prosody.domain}` }, xml("x", { xmlns: mucUser }, xml("invite", { from: `alice@${prosody.domain}/a` }))));
      const invite = () => alice.xmpp.send(xml("message", { to: party }, xml("x", { xmlns: mucUser }, xml("invite", { to: `roomsbot@${prosody.domain}` }))));
      // Real: XEP-0045 §7.8.2, the room relays alice's invite from its own bare JID. In a semi-anonymous room
      // Prosody names the inviter by occupant JID (party/alice): not on the allow-list, so the bot declines.
      const declined = nextStanza(alice, (el) => el.name === "message" && el.getChild("x", mucUser)?.getChild("decline") !== undefined);
      await invite();
      await declined;
      // Non-anonymous: the relayed invite names alice's real JID, which the policy allows.
      const whois = await mucOwnerConfig(alice, party, { "muc#roomconfig_whois": "anyone" });
      expect(whois.attrs.type, whois.toString()).toBe("result");
      await invite();
      await until(() => r.joined().has(party), 15_000, "the bot to join the room it was invited to");
      // A marker in alice's chat: handled after the forged invite (per-chat order).
      const pong = nextStanza(alice, (el) => el.name === "message" && el.getChildText("body") === "pong");
      await alice.xmpp.send(xml("message", { to: `roomsbot@${prosody.domain}`, type: "chat" }, xml("body", {}, "!ping")));
      await pong;
      expect(sentTo.filter((s) => s.includes(`alice@${prosody.domain}`) && s.startsWith("presence"))).toEqual([]);
      expect(r.joined().has(`alice@${prosody.domain}`)).toBe(false);
    } finally {
      runtime!.off("sent", onSent);
      await r.leave(party);
    }
  });

  it("rejoins after being kicked (307), and stays out once banned (301)", async () => {
    const kicks = room("kicks");
    await joinAs(alice, kicks, "alice"); // alice creates the room, so she owns it
    await r.join(kicks);
    await until(() => r.joined().has(kicks), 15_000, "the bot to join the room");
    const before = joinEvents.length;
    const kicked = await mucAdmin(alice, kicks, xml("item", { nick: "helper", role: "none" }, xml("reason", {}, "test kick")));
    expect(kicked.attrs.type, kicked.toString()).toBe("result");
    await until(() => removals.includes(`${kicks} kicked by alice: test kick`), 15_000, "the kick to be seen");
    await until(() => joinEvents.slice(before).includes(`${kicks}/helper`), 15_000, "the bot to rejoin after the kick");
    expect(r.joined().get(kicks)).toBe("helper");

    const banned = await mucAdmin(alice, kicks, xml("item", { jid: `roomsbot@${prosody.domain}`, affiliation: "outcast" }, xml("reason", {}, "test ban")));
    expect(banned.attrs.type).toBe("result");
    await until(() => removals.some((x) => x.startsWith(`${kicks} banned`)), 15_000, "the ban to be seen");
    expect(r.joined().has(kicks)).toBe(false);
    expect(r.occupants(kicks).size).toBe(0);
  });

  it("rejoins every room after the server restarts (a new session)", async () => {
    const before = joinEvents.length;
    await prosody.restart();
    await until(() => joinEvents.length >= before + 3, 60_000, "the bot to rejoin its rooms after the restart");
    expect(new Set(joinEvents.slice(before).map((j) => j.slice(0, j.lastIndexOf("/"))))).toEqual(
      new Set([room("lobby"), room("history"), room("busy")]),
    );
    expect([...r.joined().keys()].sort()).toEqual([room("busy"), room("history"), room("lobby")]);
  });

});
