// Roster sync: the get on every new session with XEP-0237 versions, pushes applied and acknowledged, forged pushes refused.
import { describe, expect, it } from "vitest";
import { Bot } from "../bot.ts";
import type { BotApi } from "../context.ts";
import { silentLogger } from "../logger.ts";
import type { PluginHost } from "../plugin.ts";
import { NS, StanzaError, xml, type Element } from "../stanza.ts";
import { createHarness } from "../testing/index.ts";
import { rosterOf, rosterSync } from "./index.ts";

const item = (j: string, sub: string, extra: Record<string, string> = {}) => xml("item", { jid: j, subscription: sub, ...extra });
const push = (attrs: Record<string, string>, ...items: Element[]) =>
  xml("iq", { type: "set", id: `push-${Math.random().toString(36).slice(2)}`, ...attrs }, xml("query", { xmlns: NS.roster, ver: "v9" }, ...items));
const subs = (view: ReturnType<typeof rosterOf>) => view!.items().map((i) => `${i.jid} ${i.subscription}${i.ask ? " ask" : ""}`);

/** A host for `rosterSync()` whose requests are answered by `answer` (and recorded). */
function fakeHost(answer: (iq: Element) => Element | StanzaError) {
  const gets: string[] = [];
  const host: PluginHost = {
    bot: { name: "b", jid: "bot@botrun.test/r", commandPrefixes: ["!"], transport: "xmpp", log: silentLogger } as unknown as BotApi,
    log: silentLogger,
    stopping: false,
    send: () => Promise.resolve(),
    dispatch: () => Promise.resolve(),
    request: (iq) => {
      gets.push(iq.getChild("query", NS.roster)!.toString());
      const r = answer(iq);
      return r instanceof StanzaError ? Promise.reject(r) : Promise.resolve(r);
    },
  };
  return { host, gets };
}

describe("roster sync", () => {
  it("fetches the roster on every new session, with the server's version once it gave one (XEP-0237)", async () => {
    const results: (Element | StanzaError)[] = [
      xml("iq", { type: "result" }, xml("query", { xmlns: NS.roster, ver: "v1" }, item("a@x.test", "both"), item("b@x.test", "to", { ask: "subscribe" }))),
      xml("iq", { type: "result" }), // unchanged since v1: the pushes carry the changes
      new StanzaError("internal-server-error", "wait"),
      xml("iq", { type: "result" }, xml("query", { xmlns: NS.roster, ver: "v3" }, item("c@x.test", "from"))),
    ];
    const { host, gets } = fakeHost(() => results.shift()!);
    const sync = rosterSync();
    sync.start!(host);
    expect(rosterOf(host.bot)).toBe(sync.view);
    await sync.online!(host, { jid: "bot@botrun.test/r" });
    expect(subs(sync.view)).toEqual(["a@x.test both", "b@x.test to ask"]);
    await sync.online!(host, { jid: "bot@botrun.test/r" });
    await sync.online!(host, { jid: "bot@botrun.test/r" }); // the server failed: what we know stays
    expect(subs(sync.view)).toEqual(["a@x.test both", "b@x.test to ask"]);
    await sync.online!(host, { jid: "bot@botrun.test/r" });
    expect(subs(sync.view)).toEqual(["c@x.test from"]);
    expect(gets).toEqual([
      `<query xmlns="${NS.roster}"/>`, // no ver before the server showed it versions the roster
      `<query xmlns="${NS.roster}" ver="v1"/>`,
      `<query xmlns="${NS.roster}" ver="v1"/>`,
      `<query xmlns="${NS.roster}" ver="v1"/>`,
    ]);
    expect(sync.view.ver).toBe("v3");
  });

  it("RFC 6121 §2.6.2: ver=\"\" on the first get when the server advertises versioning, never a ver when it does not", async () => {
    const v1 = () => xml("iq", { type: "result" }, xml("query", { xmlns: NS.roster, ver: "v1" }, item("a@x.test", "both")));
    const on = fakeHost(v1);
    const withVer = rosterSync();
    withVer.start!(on.host);
    await withVer.online!(on.host, { jid: "bot@botrun.test/r", rosterVersioning: true });
    await withVer.online!(on.host, { jid: "bot@botrun.test/r", rosterVersioning: true });
    expect(on.gets).toEqual([`<query xmlns="${NS.roster}" ver=""/>`, `<query xmlns="${NS.roster}" ver="v1"/>`]);
    const off = fakeHost(v1);
    const noVer = rosterSync();
    noVer.start!(off.host);
    await noVer.online!(off.host, { jid: "bot@botrun.test/r", rosterVersioning: false });
    await noVer.online!(off.host, { jid: "bot@botrun.test/r", rosterVersioning: false }); // a ver in a result does not count
    expect(off.gets).toEqual([`<query xmlns="${NS.roster}"/>`, `<query xmlns="${NS.roster}"/>`]);
    expect(noVer.view.ver).toBe("v1");
  });

  it("applies and acknowledges pushes from the server or the bot's own account, refuses others (RFC 6121 §2.1.6)", async () => {
    const t = await createHarness(new Bot({ name: "r" }));
    const view = rosterOf(t.runtime.api)!;
    const noFrom = push({}, item("Alice@botrun.test", "from"));
    expect((await t.push(noFrom)).map((e) => e.toString())).toEqual([`<iq type="result" id="${noFrom.attrs.id}"/>`]);
    const fromSelf = push({ from: "bot@botrun.test" }, item("alice@botrun.test", "both", { name: "Alice" }));
    expect((await t.push(fromSelf)).map((e) => e.attrs.type)).toEqual(["result"]);
    expect(subs(view)).toEqual(["alice@botrun.test both"]);
    expect(view.get("alice@botrun.test/phone")?.name).toBe("Alice");
    // A contact forging a push: refused, nothing changes.
    const forged = await t.iq("set", xml("query", { xmlns: NS.roster }, item("alice@botrun.test", "remove")), { from: "mallory@botrun.test/x" });
    expect(forged.getChild("error")?.getChild("service-unavailable")).toBeDefined();
    const otherResource = await t.iq("set", xml("query", { xmlns: NS.roster }, item("alice@botrun.test", "remove")), { from: "bot@botrun.test/other" });
    expect(otherResource.getChild("error")?.getChild("service-unavailable")).toBeDefined();
    // Not exactly one item: bad-request.
    const two = await t.iq("set", xml("query", { xmlns: NS.roster }, item("a@x.test", "to"), item("b@x.test", "to")), { from: "bot@botrun.test" });
    expect(two.getChild("error")?.getChild("bad-request")).toBeDefined();
    expect(subs(view)).toEqual(["alice@botrun.test both"]);
    await t.push(push({}, item("alice@botrun.test", "remove")));
    expect(view.size).toBe(0);
    expect(view.ver).toBe("v9");
  });
});
