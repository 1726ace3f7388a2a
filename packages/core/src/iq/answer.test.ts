// Every inbound iq get/set is answered exactly once (RFC 6120 §8.2.3, §8.4): bot.iq handlers,
// service-unavailable for what nothing handles, StanzaError and internal-server-error answers,
// no answer to results and errors, second answers dropped, malformed IQs.
import { describe, expect, it } from "vitest";
import { Bot } from "../bot.ts";
import { createConsoleLogger } from "../logger.ts";
import { NS, StanzaError, xml } from "../stanza.ts";
import { createHarness } from "../testing/index.ts";

const WEATHER = "urn:example:weather";
const query = (ns = WEATHER) => xml("query", { xmlns: ns });
const condition = (reply: Element | undefined) => reply?.getChild("error")?.getChildElements()[0]?.name;
type Element = import("@xmpp/xml").Element;

/** A logger keeping its warn and error lines ("ERROR handler failed …"). */
function recordingLogger() {
  const lines: string[] = [];
  return { logger: createConsoleLogger({ level: "warn", write: (l) => void lines.push(l) }), lines };
}

describe("answering IQs", () => {
  it("bot.iq answers with the handler's payload; the reply goes to the sender with the same id", async () => {
    const bot = new Bot({ name: "iq" });
    bot.iq("get", WEATHER, (ctx) => xml("query", { xmlns: WEATHER }, `sunny for ${ctx.from}`));
    const t = await createHarness(bot);
    const reply = await t.iq("get", query(), { id: "w1" });
    expect(reply.attrs).toMatchObject({ type: "result", id: "w1", to: t.user });
    expect(reply.getChild("query", WEATHER)?.text()).toBe(`sunny for ${t.user}`);
  });

  it("a get/set nothing handles gets service-unavailable (cancel); so does the other type of a handled namespace", async () => {
    const bot = new Bot({ name: "iq" });
    bot.iq("get", WEATHER, () => undefined);
    const t = await createHarness(bot);
    const unknown = await t.iq("get", query("urn:example:nothing"));
    expect(unknown.attrs.type).toBe("error");
    expect(unknown.getChild("error")?.attrs.type).toBe("cancel");
    expect(condition(unknown)).toBe("service-unavailable");
    expect(condition(await t.iq("set", query()))).toBe("service-unavailable");
    const empty = await t.iq("get", query());
    expect(empty.attrs.type).toBe("result");
    expect(empty.children).toEqual([]);
  });

  it("a thrown StanzaError is the answer, not a handler failure", async () => {
    const { logger, lines } = recordingLogger();
    const bot = new Bot({ name: "iq" });
    bot.iq("set", WEATHER, () => {
      throw new StanzaError("not-allowed", undefined, "read-only");
    });
    const t = await createHarness(bot, { logger });
    const reply = await t.iq("set", query());
    expect(condition(reply)).toBe("not-allowed");
    expect(reply.getChild("error")?.attrs.type).toBe("cancel");
    expect(reply.getChild("error")?.getChildText("text", NS.stanzas)).toBe("read-only");
    expect(lines).toEqual([]);
    expect(t.runtime.stats.errors).toBe(0);
  });

  it("any other error is answered internal-server-error and logged as a handler failure", async () => {
    const { logger, lines } = recordingLogger();
    const bot = new Bot({ name: "iq" });
    bot.iq("get", WEATHER, () => {
      throw new Error("database down");
    });
    const t = await createHarness(bot, { logger });
    const reply = await t.iq("get", query());
    expect(condition(reply)).toBe("internal-server-error");
    expect(JSON.stringify(reply.toString())).not.toContain("database down");
    expect(lines.map((l) => l.split(" error=")[0])).toEqual([expect.stringMatching(/^ERROR handler failed bot=iq$/)]);
    expect(t.runtime.stats.errors).toBe(1);
  });

  it("results and errors are never answered, even when no request of ours matches", async () => {
    const bot = new Bot({ name: "iq" });
    const t = await createHarness(bot);
    const a = await t.push(xml("iq", { type: "result", id: "x1", from: "carol@x.org/a", to: "bot@botrun.test/test" }));
    const b = await t.error("carol@x.org/a", "item-not-found", "iq");
    expect([...a, ...b]).toEqual([]);
  });

  it("a bot middleware answering too: exactly one reply goes out", async () => {
    const { logger, lines } = recordingLogger();
    const bot = new Bot({ name: "iq" });
    bot.on("iq:get", async (ctx, next) => {
      await ctx.sendStanza(xml("iq", { type: "result", id: ctx.stanza.attrs.id, to: ctx.from }, xml("mine", { xmlns: WEATHER })));
      await next();
    });
    bot.iq("get", WEATHER, () => xml("theirs", { xmlns: WEATHER }));
    const t = await createHarness(bot, { logger });
    const reply = await t.iq("get", query()); // throws unless exactly one reply
    expect(reply.getChild("mine")).toBeDefined();
    expect(lines).toEqual([expect.stringMatching(/^WARN  dropped a second reply to an iq/)]);
  });

  it("a middleware that answers and then throws still sends one reply", async () => {
    const bot = new Bot({ name: "iq" });
    bot.on("iq:set", async (ctx) => {
      await ctx.sendStanza(xml("iq", { type: "result", id: ctx.stanza.attrs.id, to: ctx.from }));
      throw new Error("after the answer");
    });
    const t = await createHarness(bot);
    expect((await t.iq("set", query())).attrs.type).toBe("result");
  });

  it("a get/set without exactly one child is bad-request and never reaches the pipeline; one without id is dropped", async () => {
    const seen: string[] = [];
    const bot = new Bot({ name: "iq" });
    bot.on("iq", (ctx) => void seen.push(String(ctx.stanza.attrs.id)));
    const t = await createHarness(bot);
    const none = await t.push(xml("iq", { type: "get", id: "n0", from: t.user }));
    const two = await t.push(xml("iq", { type: "get", id: "n2", from: t.user }, query(), query()));
    expect([none, two].map((s) => s.map((el) => `${el.attrs.id} ${condition(el)}`))).toEqual([["n0 bad-request"], ["n2 bad-request"]]);
    expect(await t.push(xml("iq", { type: "get", from: t.user }, query()))).toEqual([]);
    expect(seen).toEqual([]);
  });

  it("IQs reach bot middleware (iq:get is typed with its payload) unless a built-in answered them", async () => {
    const seen: string[] = [];
    const bot = new Bot({ name: "iq" });
    bot.on("iq:get", (ctx, next) => {
      seen.push(String(ctx.payload.attrs.xmlns));
      return next();
    });
    const t = await createHarness(bot);
    await t.iq("get", query(NS.version));
    await t.iq("get", query("urn:example:other"));
    expect(seen).toEqual(["urn:example:other"]);
  });

  it("a reused id after the first answer is a new request and is answered again", async () => {
    const bot = new Bot({ name: "iq" });
    const t = await createHarness(bot);
    expect((await t.iq("get", query(NS.version), { id: "same" })).attrs.type).toBe("result");
    expect((await t.iq("get", query(NS.version), { id: "same" })).attrs.type).toBe("result");
  });

  it("a sender's IQs are not queued behind the sender's slow message handler", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const bot = new Bot({ name: "iq" });
    bot.on("message:body", () => gate);
    const t = await createHarness(bot);
    t.transport.receive(xml("message", { from: t.user, to: "bot@botrun.test/test", type: "chat", id: "m1" }, xml("body", {}, "slow")));
    t.transport.receive(xml("iq", { from: t.user, to: "bot@botrun.test/test", type: "get", id: "p1" }, xml("ping", { xmlns: NS.ping })));
    const reply = await t.next((el) => el.name === "iq" && el.attrs.id === "p1");
    expect(reply.attrs.type).toBe("result");
    release();
    await t.settle();
  });
});
