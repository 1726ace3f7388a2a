// Outbound iq requests through the runtime (ctx.bot.request, host.request) on the test kit:
// result, error, timeout, id matching by sender, bounded pending map, stop, and the console transport.
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Bot } from "../bot.ts";
import { ConsoleTransport } from "../console/console-transport.ts";
import { silentLogger } from "../logger.ts";
import type { PluginHost } from "../plugin.ts";
import { BotRuntime } from "../runtime/runtime.ts";
import { NS, StanzaError, xml } from "../stanza.ts";
import { createHarness } from "../testing/index.ts";
import { IqRequestError, IqRequests, IqTimeoutError } from "./requests.ts";

afterEach(() => {
  vi.useRealTimers();
});

const versionGet = (to: string) => xml("iq", { type: "get", to }, xml("query", { xmlns: NS.version }));

/** A bot whose plugin exposes its host, so tests can call host.request. */
function botWithHost() {
  let host!: PluginHost;
  const bot = new Bot({ name: "req", plugins: [{ name: "probe", start: (h) => void (host = h) }] });
  return { bot, host: () => host };
}

describe("request()", () => {
  it("resolves with the result the addressee sends, matched by id; the reply never reaches the pipeline", async () => {
    const seen: string[] = [];
    const { bot, host } = botWithHost();
    bot.on("iq", (ctx) => void seen.push(ctx.type));
    const t = await createHarness(bot, { iq: () => undefined });
    const pending = host().request(versionGet("carol@x.org/pc"));
    const sent = await t.next((el) => el.name === "iq");
    expect(sent.attrs).toMatchObject({ type: "get", to: "carol@x.org/pc" });
    expect(String(sent.attrs.id)).not.toBe("");
    await t.respond(sent, xml("query", { xmlns: NS.version }, xml("name", {}, "Gajim")));
    const res = await pending;
    expect(res.getChild("query", NS.version)?.getChildText("name")).toBe("Gajim");
    expect(seen).toEqual([]);
  });

  it("rejects with a StanzaError on type=error", async () => {
    const bot = new Bot({ name: "req" });
    let request!: (to: string) => Promise<unknown>;
    bot.command("ask", (ctx) => void (request = (to) => ctx.bot.request(versionGet(to))));
    const t = await createHarness(bot, { iq: () => new StanzaError("item-not-found", "cancel", "gone") });
    await t.say("!ask");
    const err = await request("nobody@x.org/a").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StanzaError);
    expect(err).toMatchObject({ condition: "item-not-found", type: "cancel", text: "gone" });
  });

  it("a handler awaiting a request from the same chat is not blocked by its own chat queue", async () => {
    const bot = new Bot({ name: "req" });
    bot.command("v", async (ctx) => {
      const res = await ctx.bot.request(versionGet(ctx.from));
      await ctx.reply(res.getChild("query")?.getChildText("name") ?? "?");
    });
    const t = await createHarness(bot, { iq: () => xml("query", { xmlns: NS.version }, xml("name", {}, "poezio")) });
    await t.say("!v");
    expect(t.replies()).toEqual(["poezio"]);
  });

  it("ignores a reply with the right id from the wrong sender (RFC 6120 §8.1.2.1), then times out", async () => {
    vi.useFakeTimers();
    const { bot, host } = botWithHost();
    const t = await createHarness(bot, { iq: () => undefined });
    const pending = host().request(versionGet("carol@x.org/pc"), { timeoutMs: 5000 });
    const caught = pending.catch((e: unknown) => e);
    const sent = await t.next((el) => el.name === "iq");
    await t.push(xml("iq", { type: "result", id: sent.attrs.id, from: "mallory@evil.org/x", to: "bot@botrun.test/test" }));
    await vi.advanceTimersByTimeAsync(5000);
    const err = await caught;
    expect(err).toBeInstanceOf(IqTimeoutError);
  });

  it("accepts the server's reply to a request with no `to` (no from, or the bare JID); ids are unique", async () => {
    const { bot, host } = botWithHost();
    const t = await createHarness(bot, { iq: () => undefined });
    const a = host().request(xml("iq", { type: "get" }, xml("query", { xmlns: NS.roster })));
    const b = host().request(xml("iq", { type: "get" }, xml("query", { xmlns: NS.roster })));
    const [ra, rb] = t.sent.filter((el) => el.name === "iq");
    expect(ra!.attrs.id).not.toBe(rb!.attrs.id);
    await t.push(xml("iq", { type: "result", id: ra!.attrs.id, to: "bot@botrun.test/test" }));
    await t.push(xml("iq", { type: "result", id: rb!.attrs.id, from: "bot@botrun.test", to: "bot@botrun.test/test" }));
    await expect(a).resolves.toBeDefined();
    await expect(b).resolves.toBeDefined();
  });

  it("refuses what is not an iq get/set, a duplicate pending id, and more than maxPending", async () => {
    const sent: unknown[] = [];
    const reqs = new IqRequests({ send: async (el) => void sent.push(el), self: () => "b@x/r", maxPending: 2 });
    await expect(reqs.request(xml("iq", { type: "result" }))).rejects.toBeInstanceOf(IqRequestError);
    void reqs.request(xml("iq", { type: "get", id: "same" }, xml("q", { xmlns: "x" }))).catch(() => {});
    await expect(reqs.request(xml("iq", { type: "get", id: "same" }, xml("q", { xmlns: "x" })))).rejects.toThrow(/already pending/);
    void reqs.request(xml("iq", { type: "get" }, xml("q", { xmlns: "x" }))).catch(() => {});
    await expect(reqs.request(xml("iq", { type: "get" }, xml("q", { xmlns: "x" })))).rejects.toThrow(/too many pending/);
    expect(reqs.size).toBe(2);
    reqs.close();
    expect(reqs.size).toBe(0);
  });

  it("stop() rejects pending requests and later ones", async () => {
    const { bot, host } = botWithHost();
    const t = await createHarness(bot, { iq: () => undefined });
    const pending = host().request(versionGet("carol@x.org/pc")).catch((e: unknown) => e);
    await t.stop();
    expect(await pending).toBeInstanceOf(IqRequestError);
    await expect(host().request(versionGet("carol@x.org/pc"))).rejects.toThrow(/stopped/);
  });

  it("a handler awaiting a reply does not hold stop() for the drain timeout: inbound is paused, so its request fails at once", async () => {
    const bot = new Bot({ name: "req" });
    const outcome: unknown[] = [];
    bot.command("ask", async (ctx) => {
      outcome.push(await ctx.bot.request(versionGet("carol@x.org/pc")).catch((e: unknown) => e));
    });
    // No responder answers carol: without the early rejection the handler waits for its 30 s timeout.
    const t = await createHarness(bot, { iq: () => undefined, runtime: { drainTimeoutMs: 60_000 } });
    void t.say("!ask");
    await t.next((el) => el.name === "iq");
    const stopping = t.stop();
    const winner = await Promise.race([stopping.then(() => "stopped"), new Promise((r) => setTimeout(r, 5_000, "held"))]);
    expect(winner).toBe("stopped");
    expect(outcome[0]).toBeInstanceOf(IqRequestError);
  });

  it("a failed send rejects the request and frees its slot", async () => {
    const reqs = new IqRequests({ send: () => Promise.reject(new Error("outbox full")), self: () => "b@x/r" });
    await expect(reqs.request(versionGet("c@x/r"))).rejects.toThrow("outbox full");
    expect(reqs.size).toBe(0);
  });

  it("the terminal chat answers like a server: empty roster, service-unavailable for a contact", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const { bot, host } = botWithHost();
    const runtime = new BotRuntime(bot, new ConsoleTransport({ input, output, interactive: false }), { logger: silentLogger });
    await runtime.start();
    const roster = await host().request(xml("iq", { type: "get" }, xml("query", { xmlns: NS.roster })));
    expect(roster.getChild("query", NS.roster)?.getChildElements()).toEqual([]);
    await expect(host().request(versionGet("someone@console.local/x"))).rejects.toMatchObject({ condition: "service-unavailable" });
    input.end();
    await runtime.stop();
  });
});
