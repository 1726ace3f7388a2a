// The built-in responders through the test kit: disco#info (identity, core and plugin features,
// caps node, plugin nodes), disco#items, version, time, last activity, ping; caps on presences.
import { afterEach, describe, expect, it, vi } from "vitest";
import { Bot } from "../bot.ts";
import type { Plugin } from "../plugin.ts";
import { NS, presence, xml } from "../stanza.ts";
import { createHarness } from "../testing/index.ts";
import { capsVer, CAPS_NODE } from "./caps.ts";
import { BOTRUN_VERSION } from "./version.ts";

afterEach(() => {
  vi.useRealTimers();
});

const get = (ns: string, attrs: Record<string, string> = {}) => xml("query", { xmlns: ns, ...attrs });
const features = (q: import("@xmpp/xml").Element | undefined) => q?.getChildren("feature").map((f) => String(f.attrs.var)) ?? [];

const notes: Plugin = {
  name: "notes",
  features: ["urn:example:notes"],
  identities: [{ category: "automation", type: "command-list" }],
  disco: {
    items: (node) => (node === undefined ? [{ jid: "bot@botrun.test/test", node: "notes", name: "Notes" }] : node === "notes" ? [] : undefined),
    info: (node) => (node === "notes" ? { identities: [{ category: "automation", type: "command-node", name: "Notes" }], features: ["urn:example:notes"] } : undefined),
  },
};

describe("built-in responders", () => {
  it("disco#info: client/bot named after the bot, core features and the plugins', sorted, no duplicates", async () => {
    const t = await createHarness(new Bot({ name: "helper", features: ["urn:example:own"], plugins: [notes, { name: "dup", features: [NS.version] }] }));
    const q = (await t.iq("get", get(NS.discoInfo))).getChild("query", NS.discoInfo);
    expect(q?.getChildren("identity").map((i) => i.attrs)).toEqual([
      { category: "automation", type: "command-list" },
      { category: "client", type: "bot", name: "helper" },
    ]);
    const f = features(q);
    for (const ns of [NS.discoInfo, NS.discoItems, NS.caps, NS.version, NS.time, NS.ping, NS.last, NS.sid, "urn:example:notes", "urn:example:own"]) expect(f).toContain(ns);
    expect(f).toEqual([...new Set(f)].sort());
  });

  it("disco#info to the caps node answers the same info (the ver in presence is its hash); plugin nodes; unknown node item-not-found", async () => {
    const t = await createHarness(new Bot({ name: "helper", plugins: [notes] }));
    await t.runtime.send(presence());
    const c = t.sent.at(-1)?.getChild("c", NS.caps);
    expect(c?.attrs).toMatchObject({ hash: "sha-1", node: CAPS_NODE });
    const node = `${CAPS_NODE}#${String(c?.attrs.ver)}`;
    const q = (await t.iq("get", get(NS.discoInfo, { node }))).getChild("query", NS.discoInfo)!;
    expect(q.attrs.node).toBe(node);
    const info = {
      identities: q.getChildren("identity").map((i) => ({ category: String(i.attrs.category), type: String(i.attrs.type), name: i.attrs.name as string | undefined })),
      features: features(q),
    };
    expect(capsVer(info)).toBe(c?.attrs.ver);
    const notesInfo = (await t.iq("get", get(NS.discoInfo, { node: "notes" }))).getChild("query", NS.discoInfo);
    expect(notesInfo?.getChild("identity")?.attrs.type).toBe("command-node");
    const unknown = await t.iq("get", get(NS.discoInfo, { node: "nope" }));
    expect(unknown.getChild("error")?.getChild("item-not-found", NS.stanzas)).toBeDefined();
  });

  it("disco#items: empty by default, plugins' items otherwise", async () => {
    const plain = await createHarness(new Bot({ name: "plain" }));
    expect((await plain.iq("get", get(NS.discoItems))).getChild("query", NS.discoItems)?.children).toEqual([]);
    const t = await createHarness(new Bot({ name: "helper", plugins: [notes] }));
    const items = (await t.iq("get", get(NS.discoItems))).getChild("query", NS.discoItems)?.getChildren("item");
    expect(items?.map((i) => i.attrs)).toEqual([{ jid: "bot@botrun.test/test", node: "notes", name: "Notes" }]);
    expect((await t.iq("get", get(NS.discoItems, { node: "x" }))).attrs.type).toBe("error");
  });

  it("version: botrun and its package version; os only when configured", async () => {
    const t = await createHarness(new Bot({ name: "v" }));
    const q = (await t.iq("get", get(NS.version))).getChild("query", NS.version);
    expect([q?.getChildText("name"), q?.getChildText("version"), q?.getChild("os")]).toEqual(["botrun", BOTRUN_VERSION, undefined]);
    expect(BOTRUN_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    const withOs = await createHarness(new Bot({ name: "v" }), { runtime: { versionOs: "Debian 12" } });
    expect((await withOs.iq("get", get(NS.version))).getChild("query", NS.version)?.getChildText("os")).toBe("Debian 12");
  });

  it("time: XEP-0082 utc and tzo", async () => {
    vi.useFakeTimers({ now: new Date("2026-03-04T05:06:07.891Z"), toFake: ["Date"] });
    const t = await createHarness(new Bot({ name: "v" }));
    const el = (await t.iq("get", xml("time", { xmlns: NS.time }))).getChild("time", NS.time);
    expect(el?.getChildText("utc")).toBe("2026-03-04T05:06:07Z");
    expect(el?.getChildText("tzo")).toMatch(/^[+-]\d\d:\d\d$/);
  });

  it("last activity: seconds since the bot last sent a message (since start before that)", async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ["Date"] });
    const bot = new Bot({ name: "v" });
    bot.on("message:body", (ctx) => ctx.reply("ok"));
    const t = await createHarness(bot);
    const seconds = async () => Number((await t.iq("get", get(NS.last))).getChild("query", NS.last)?.attrs.seconds);
    vi.setSystemTime(1_042_000);
    expect(await seconds()).toBe(42);
    await t.say("hi");
    vi.setSystemTime(1_049_500);
    expect(await seconds()).toBe(7);
  });

  it("ping from a client: an empty result", async () => {
    const t = await createHarness(new Bot({ name: "v" }));
    const reply = await t.iq("get", xml("ping", { xmlns: NS.ping }), { from: "carol@x.org/phone" });
    expect(reply.attrs).toMatchObject({ type: "result", to: "carol@x.org/phone" });
    expect(reply.children).toEqual([]);
  });

  it("the runtime hands its transport an initial presence carrying the same caps", async () => {
    const t = await createHarness(new Bot({ name: "helper", plugins: [notes] }));
    const initial = t.transport.initialPresence?.();
    await t.runtime.send(presence());
    expect(initial?.getChild("c", NS.caps)?.attrs.ver).toBe(t.sent.at(-1)?.getChild("c", NS.caps)?.attrs.ver);
    expect(initial?.attrs.type).toBeUndefined();
  });

  it("answers an iq get from the bot's own full JID (another of its requests, a self-ping): never taken for an echo", async () => {
    const t = await createHarness(new Bot({ name: "self" }));
    const res = await t.iq("get", xml("ping", { xmlns: NS.ping }), { from: "bot@botrun.test/test" });
    expect(res.attrs.type).toBe("result");
  });
});
