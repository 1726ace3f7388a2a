// Every IQ answered, discovery and identity, through real Prosody with slixmpp as the client
// (test/env/citizen-client.py) and a real botrun runtime: disco#info/items, version, time, last,
// ping, unknown namespaces (service-unavailable), a result (no reply), a throwing handler
// (internal-server-error), each answered exactly once; caps in the bot's presence, re-computed
// and validated by slixmpp's XEP-0115 plugin against the bot's disco#info of `node#ver`; no reply
// to a headline, an origin-id on replies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bot, BOTRUN_VERSION, NS, presence, type BotRuntime, type XmppTransport } from "@botrun/core";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { startPasswordRuntime } from "./helpers/echo-runtime.ts";
import { all, child, Citizen, errorCondition, type Tree } from "./helpers/citizen.ts";

const PW = "citizen-pw";

let prosody: ProsodyHandle;
let runtime: BotRuntime;
let transport: XmppTransport;
let client: Citizen;
let lines: string[];
let botJid: string;
let clientJid: string;

beforeAll(async () => {
  prosody = await startProsody({ tls: "none" });
  await Promise.all([prosody.register("citizen", PW), prosody.register("user", PW)]);
  const bot = new Bot({ name: "citizen", plugins: [{ name: "notes", features: ["urn:example:notes"] }] });
  bot.on("message:body", (ctx) => ctx.reply(`echo: ${ctx.text}`));
  bot.iq("get", "urn:example:boom", () => {
    throw new Error("boom");
  });
  ({ runtime, transport, lines } = await startPasswordRuntime(bot, prosody, "citizen", PW));
  botJid = transport.jid!;
  client = new Citizen(`user@${prosody.domain}/cli`, prosody.c2sPort, PW);
  clientJid = String((await client.waitFor((e) => e.event === "online", "client online")).jid);
}, 60_000);

afterAll(async () => {
  await client?.stop();
  await runtime?.stop();
  await prosody?.stop();
});

describe("a good XMPP citizen: IQs through real Prosody, asked by slixmpp", () => {
  it("caps in the bot's presence; slixmpp's XEP-0115 validates the ver against disco#info of node#ver", async () => {
    await runtime.send(presence({ to: clientJid }));
    const caps = await client.waitFor((e) => e.event === "caps" && e.from === botJid, "caps presence");
    expect(caps).toMatchObject({ hash: "sha-1", node: "https://github.com/botrun/botrun" });
    const check = await client.ask({ cmd: "verify-caps", jid: botJid, node: caps.node, ver: caps.ver });
    expect(check).toMatchObject({ valid: true, ver: caps.ver });
  });

  it("disco#info: identity client/bot with the bot's name; core and plugin features", async () => {
    const r = await client.iq(botJid, "get", `<query xmlns='${NS.discoInfo}'/>`);
    expect(r.type).toBe("result");
    const q = child(r.stanza, `{${NS.discoInfo}}query`);
    expect(all(q, `{${NS.discoInfo}}identity`).map((i) => i.attrs)).toEqual([{ category: "client", type: "bot", name: "citizen" }]);
    const features = all(q, `{${NS.discoInfo}}feature`).map((f) => f.attrs.var);
    for (const f of [NS.discoInfo, NS.discoItems, NS.caps, NS.version, NS.time, NS.ping, NS.last, "urn:example:notes"]) expect(features).toContain(f);
  });

  it("disco#items: an empty result", async () => {
    const r = await client.iq(botJid, "get", `<query xmlns='${NS.discoItems}'/>`);
    expect(r.type).toBe("result");
    expect(child(r.stanza, `{${NS.discoItems}}query`)?.children).toEqual([]);
  });

  it("version, time and last activity", async () => {
    const v = child((await client.iq(botJid, "get", `<query xmlns='${NS.version}'/>`)).stanza, `{${NS.version}}query`);
    expect([child(v, `{${NS.version}}name`)?.text, child(v, `{${NS.version}}version`)?.text, child(v, `{${NS.version}}os`)]).toEqual([
      "botrun",
      BOTRUN_VERSION,
      undefined,
    ]);
    const t = child((await client.iq(botJid, "get", `<time xmlns='${NS.time}'/>`)).stanza, `{${NS.time}}time`);
    expect(Math.abs(Date.parse(child(t, `{${NS.time}}utc`)!.text) - Date.now())).toBeLessThan(60_000);
    expect(child(t, `{${NS.time}}tzo`)?.text).toMatch(/^[+-]\d\d:\d\d$/);
    const last = child((await client.iq(botJid, "get", `<query xmlns='${NS.last}'/>`)).stanza, `{${NS.last}}query`);
    expect(Number(last?.attrs.seconds)).toBeGreaterThanOrEqual(0);
  });

  it("ping from a client: a result, answered by the runtime's responder (not the transport's server-ping reply)", async () => {
    let pings = 0;
    const count = ({ ctx }: { ctx: { payload?: { name: string } } }) => void (ctx.payload?.name === "ping" && pings++);
    runtime.on("handled", count);
    expect((await client.iq(botJid, "get", `<ping xmlns='${NS.ping}'/>`)).type).toBe("result");
    runtime.off("handled", count);
    expect(pings).toBe(1);
  });

  it("an unknown namespace, get or set: service-unavailable; a throwing handler: internal-server-error, logged", async () => {
    for (const type of ["get", "set"] as const) {
      const r = await client.iq(botJid, type, "<query xmlns='urn:example:unknown'/>");
      expect([r.type, errorCondition(r.stanza)]).toEqual(["error", "service-unavailable"]);
    }
    const boom = await client.iq(botJid, "get", "<query xmlns='urn:example:boom'/>");
    expect([boom.type, errorCondition(boom.stanza)]).toEqual(["error", "internal-server-error"]);
    expect(lines.some((l) => l.includes("handler failed") && l.includes("boom"))).toBe(true);
  });

  it("a result is never answered, and every get/set above got exactly one reply", async () => {
    const sent = await client.ask({ cmd: "iq", to: botJid, type: "result", xml: "<query xmlns='urn:example:unsolicited'/>" });
    // A ping after it: the bot handles a sender's stanzas in order, so any reply to the result would come first.
    expect((await client.iq(botJid, "get", `<ping xmlns='${NS.ping}'/>`)).type).toBe("result");
    const { counts } = (await client.ask({ cmd: "counts" })) as unknown as { counts: Record<string, number> };
    expect(counts[String(sent.id)]).toBeUndefined();
    const ours = client.events.filter((e) => e.event === "reply").map((e) => String(e.id));
    expect(ours.length).toBeGreaterThanOrEqual(10);
    expect(ours.map((id) => counts[id])).toEqual(ours.map(() => 1));
  });

  it("no reply to a headline (RFC 6121 §5.2.2); a chat reply carries a XEP-0359 origin-id", async () => {
    await client.ask({ cmd: "message", to: botJid, type: "headline", body: "news" });
    await client.ask({ cmd: "message", to: botJid, type: "chat", body: "hello" });
    const reply = await client.waitFor((e) => e.event === "message" && e.body === "echo: hello", "the chat reply");
    // The bot handles a sender's messages in order: a reply to the headline would have come first.
    expect(client.events.filter((e) => e.event === "message").map((e) => e.body)).toEqual(["echo: hello"]);
    expect(typeof reply.origin_id === "string" && reply.origin_id !== "").toBe(true);
  });
});
