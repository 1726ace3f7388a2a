// XEP-0249 direct invites against a real Prosody (MUC at conference.localhost): the bot knows no MUC
// service up front, so it verifies the invited room's service by disco#info (Prosody's MUC answers
// conference/text, XEP-0045 §6.2) and joins; an invite to the inviter's own JID, to a user's domain
// or to a domain that does not exist is never joined: no presence goes to it (issue 9.3 review).
import { Bot, BotRuntime, createXmppTransport, loadConfig, NS, silentLogger, type Element } from "@botrun/core";
import { commands, rooms, type Rooms } from "@botrun/plugins";
import { xml } from "@xmpp/client";
import type { EventEmitter } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { startRawClient, type RawClient } from "./helpers/raw-client.ts";

let prosody: ProsodyHandle;
let runtime: BotRuntime | undefined;
let alice: RawClient | undefined;
let r: Rooms;
const sent: Element[] = [];
const joinWaiters = new Map<string, () => void>();

/** Resolve with the first stanza `c` receives from now on that matches (bounded). */
function nextStanza(c: RawClient, pred: (el: Element) => boolean, ms = 15_000): Promise<Element> {
  const em = c.xmpp as unknown as EventEmitter;
  return new Promise((resolve, reject) => {
    const on = (el: Element) => {
      if (!pred(el)) return;
      clearTimeout(t);
      em.removeListener("stanza", on);
      resolve(el);
    };
    const t = setTimeout(() => {
      em.removeListener("stanza", on);
      reject(new Error(`no matching stanza within ${ms} ms`));
    }, ms);
    em.on("stanza", on);
  });
}

beforeAll(async () => {
  prosody = await startProsody();
  await prosody.register("invitee", "bot-pw-2");
  await prosody.register("alice", "alice-pw-2");
  alice = await startRawClient({ host: prosody.host, directTlsPort: prosody.directTlsPort, domain: prosody.domain, caFile: prosody.caFile, username: "alice", password: "alice-pw-2", resource: "a" });
  r = rooms({ nick: "invitee", invites: { allow: [`alice@${prosody.domain}`] }, onJoin: (room) => joinWaiters.get(room)?.() });
  const bot = new Bot({ name: "invitee" });
  const cmds = commands();
  cmds.command("ping", (ctx) => ctx.reply("pong"));
  bot.install(r, cmds);
  const config = loadConfig({
    XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
    XMPP_DOMAIN: prosody.domain,
    XMPP_CA_FILE: prosody.caFile,
    XMPP_USERNAME: "invitee",
    XMPP_PASSWORD: "bot-pw-2",
    XMPP_START_ATTEMPTS: "1",
  })!;
  runtime = new BotRuntime(bot, createXmppTransport({ config, logger: silentLogger }), { logger: silentLogger });
  runtime.on("sent", (el: Element) => void sent.push(el));
  await runtime.start();
});

afterAll(async () => {
  await runtime?.stop();
  await alice?.stop();
  await prosody?.stop();
});

describe("direct invites on a real server", () => {
  it("joins a room whose service disco shows is a MUC; never the inviter's JID, a user's domain or an unknown domain", async () => {
    const a = alice!;
    // The bot's full JID: a stanza to the bare JID that reached Prosody before the bot's initial
    // presence would be stored offline and come back delayed (commands skip delayed messages).
    const bot = runtime!.transport.jid!;
    const invite = (target: string) => a.xmpp.send(xml("message", { to: bot }, xml("x", { xmlns: "jabber:x:conference", jid: target })));
    await invite(`alice@${prosody.domain}`);
    await invite(`bob@${prosody.domain}`);
    await invite("room@nowhere.invalid");
    // A marker in alice's chat: handled after the three invites (per-chat order).
    const pong = nextStanza(a, (el) => el.name === "message" && el.getChildText("body") === "pong");
    await a.xmpp.send(xml("message", { to: bot, type: "chat" }, xml("body", {}, "!ping")));
    await pong;
    const presences = () => sent.filter((el) => el.name === "presence" && el.attrs.to).map((el) => String(el.attrs.to));
    expect(presences()).toEqual([]);
    expect(sent.some((el) => el.name === "iq" && el.attrs.to === "nowhere.invalid" && el.getChild("query", NS.discoInfo))).toBe(true);
    // A real room on Prosody's MUC service: disco#info says conference/text, the bot joins.
    const party = `party@${prosody.mucDomain}`;
    const joined = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`not joined ${party} within 15 s`)), 15_000);
      joinWaiters.set(party, () => (clearTimeout(t), resolve()));
    });
    await invite(party);
    await joined;
    expect([...r.joined().keys()]).toEqual([party]);
    expect(presences()).toEqual([`${party}/invitee`]);
  });
});
