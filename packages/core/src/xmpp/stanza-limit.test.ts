// Outgoing stanza size limit: measuring (escaping, UTF-8), XEP-0478 discovery, and the transport
// dropping what is too large (before sending, or after the server refused it) while the rest flows.
import { describe, expect, it } from "vitest";
import xml from "@xmpp/xml";
import { advertisedMaxBytes, DEFAULT_MAX_STANZA_BYTES, effectiveLimit, serializedBytes, stanzaBytes, StanzaTooLargeError } from "./stanza-limit.ts";
import { loadConfig } from "../config/index.ts";
import { createConsoleLogger } from "../logger.ts";
import { transportOnFakeServer, until, type FakeServer, type FakeServerOptions } from "../../test-support/fake-server.ts";

describe("stanzaBytes", () => {
  it("is exact (escaped, UTF-8) when near the limit and a bound below it otherwise", () => {
    const el = xml("message", { to: "a@b" }, xml("body", {}, ">".repeat(70_000)));
    const exact = Buffer.byteLength(el.toString(), "utf8");
    expect(exact).toBeGreaterThan(280_000); // ">" is written as "&gt;"
    expect(stanzaBytes(el, 100_000)).toBe(exact);
    const small = xml("message", { to: "a@b" }, xml("body", {}, "héllo ✓"));
    const n = stanzaBytes(small, 10_000);
    expect(n).toBeGreaterThanOrEqual(Buffer.byteLength(small.toString(), "utf8"));
    expect(n).toBeLessThanOrEqual(10_000);
    const emoji = xml("message", {}, xml("body", {}, "😀".repeat(5000)));
    expect(stanzaBytes(emoji, 1000)).toBe(Buffer.byteLength(emoji.toString(), "utf8"));
    const attrs = xml("message", { to: `o'neil"&<>@b`, n: 7 }, xml("body", {}, "a&b<c>d'\""), xml("x", { xmlns: "y" }), "😀 tail");
    expect(serializedBytes(attrs)).toBe(Buffer.byteLength(attrs.toString(), "utf8"));
  });

  it("walks deep elements without recursion", () => {
    const root = xml("message", {});
    let cur = root;
    for (let i = 0; i < 50_000; i++) cur = cur.c("x");
    expect(stanzaBytes(root, 10_000)).toBeGreaterThan(10_000);
  });
});

describe("the limit in force", () => {
  it("reads XEP-0478 max-bytes from stream features; the setting only lowers it", () => {
    const feats = (inner: string) => xml("stream:features", {}, xml("limits", { xmlns: "urn:xmpp:stream-limits:0" }, xml("max-bytes", {}, inner)));
    expect(advertisedMaxBytes(feats("262144"))).toBe(262_144);
    expect(advertisedMaxBytes(feats("-1"))).toBeUndefined();
    expect(advertisedMaxBytes(feats("lots"))).toBeUndefined();
    expect(advertisedMaxBytes(xml("stream:features", {}))).toBeUndefined();
    expect(effectiveLimit(undefined, undefined)).toBe(DEFAULT_MAX_STANZA_BYTES);
    expect(effectiveLimit(undefined, 500_000)).toBe(500_000);
    expect(effectiveLimit(100_000, 50_000)).toBe(50_000);
    expect(effectiveLimit(100_000, undefined)).toBe(100_000);
  });

  it("XMPP_MAX_STANZA_BYTES is validated and named in the error", () => {
    const base = { XMPP_DOMAIN: "d", XMPP_ACCESS_TOKEN: "t" };
    expect(loadConfig({ ...base, XMPP_MAX_STANZA_BYTES: "65536" })!.tuning.maxStanzaBytes).toBe(65_536);
    expect(loadConfig(base)!.tuning.maxStanzaBytes).toBeUndefined();
    for (const bad of ["100", "1e5x", "-3"]) expect(() => loadConfig({ ...base, XMPP_MAX_STANZA_BYTES: bad })).toThrow(/^XMPP_MAX_STANZA_BYTES: expected an integer >= 10000/);
  });
});

describe("the transport and oversized stanzas", () => {
  const lines: string[] = [];
  const logger = createConsoleLogger({ level: "info", write: (l) => void lines.push(l) });
  let server: FakeServer;
  const start = async (opts: FakeServerOptions, env: Record<string, string> = {}) => {
    lines.length = 0;
    const r = await transportOnFakeServer(opts, env, logger);
    server = r.server;
    return r.transport;
  };
  const msg = (id: string, body: string) => xml("message", { to: "peer@localhost", type: "chat", id }, xml("body", {}, body));

  it("drops a stanza over the limit before sending: typed rejection, one log line without the body, later ones flow", async () => {
    const t = await start({ mechanisms: ["PLAIN"], sm: () => "enabled" });
    const poison = msg("poison", ">".repeat(70_000));
    const err = await t.send(poison).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StanzaTooLargeError);
    expect((err as StanzaTooLargeError).limit).toBe(DEFAULT_MAX_STANZA_BYTES);
    expect((err as StanzaTooLargeError).bytes).toBe(Buffer.byteLength(poison.toString(), "utf8"));
    for (let i = 1; i <= 3; i++) await t.send(msg(`m${i}`, "ok"));
    await until(() => server.messages[0]!.length === 3);
    expect(server.messages[0]).toEqual(["m1", "m2", "m3"]);
    expect(server.rawBy[0]).not.toContain("poison");
    const drops = lines.filter((l) => /too large/.test(l));
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatch(/262\d{3}|2[89]\d{4}/);
    expect(drops[0]).not.toContain("&gt;&gt;");
    expect(t.stats.droppedTooLarge).toBe(1);
  });

  it("uses the limit the server advertises (XEP-0478)", async () => {
    const t = await start({ mechanisms: ["PLAIN"], advertiseMaxBytes: 20_000 });
    expect(t.maxStanzaBytes).toBe(20_000);
    await expect(t.send(msg("big", "x".repeat(25_000)))).rejects.toBeInstanceOf(StanzaTooLargeError);
    await t.send(msg("fits", "x".repeat(15_000)));
    await until(() => server.messages[0]!.length === 1);
    expect(server.messages[0]).toEqual(["fits"]);
  });

  it("a stanza the server refuses anyway (policy-violation) is dropped, never resent; what was queued behind it flows on", async () => {
    // The server refuses more than 30,000 bytes; we do not know (no XEP-0478, default limit).
    const t = await start({ mechanisms: ["PLAIN"], sm: () => "enabled", refuseOver: 30_000 });
    await until(() => t.streamManagement);
    const online = new Promise<void>((r) => t.once("online", () => r()));
    await t.send(msg("before", "ok"));
    await t.send(msg("refused", "y".repeat(40_000)));
    await t.send(msg("after1", "ok"));
    await t.send(msg("after2", "ok"));
    await online;
    await until(() => server.messages[1]?.length === 2);
    // Connection 1 handled "before" and refused the next one; connection 2 gets only what followed.
    expect(server.messages[0]).toEqual(["before"]);
    expect(server.messages[1]).toEqual(["after1", "after2"]);
    expect(server.rawBy[1]).not.toContain("yyyy");
    expect(server.connections).toBe(2);
    expect(t.stats.droppedRefused).toBe(1);
    expect(lines.filter((l) => /refused a stanza/.test(l))).toHaveLength(1);
  });
});
