// What the transport learns about a session and tells the rest of botrun: the SASL mechanism `auto`
// resolved to (for `botrun check`), roster versioning from the stream features (RFC 6121 §2.6.1),
// and inbound stanzas dropped for nesting too deep (one log line each, counted in /metrics).
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.ts";
import { createConsoleLogger } from "../logger.ts";
import { ServiceMetrics } from "../observability/metrics.ts";
import { Bot } from "../bot.ts";
import { BotRuntime } from "../runtime/runtime.ts";
import { startFakeServer, type FakeServer } from "../../test-support/fake-server.ts";
import { startHostileServer, type HostileServer } from "../../test-support/hostile-server.ts";
import { createXmppTransport, type XmppTransport } from "./transport.ts";

let server: HostileServer | FakeServer | undefined;
let transport: XmppTransport | undefined;
afterEach(async () => {
  await transport?.stop();
  await server?.close();
  transport = server = undefined;
});

/** A transport (PLAIN as bot/pw, insecure loopback) for the server on `port`, not started; `lines` gets its log. */
function transportOn(port: number): { t: XmppTransport; lines: string[] } {
  const lines: string[] = [];
  const config = loadConfig({
    XMPP_SERVICE: `xmpp://127.0.0.1:${port}`, XMPP_DOMAIN: "localhost", XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw",
    XMPP_MECHANISM: "PLAIN", XMPP_ALLOW_INSECURE: "1", XMPP_START_ATTEMPTS: "1",
  })!;
  transport = createXmppTransport({ config, logger: createConsoleLogger({ level: "info", write: (l) => lines.push(l) }) });
  return { t: transport, lines };
}

describe("the XMPP transport's session facts", () => {
  it("saslMechanism names the mechanism that authenticated (undefined before)", async () => {
    server = await startFakeServer({ mechanisms: ["PLAIN"] });
    const { t } = transportOn(server.port);
    expect(t.saslMechanism).toBeUndefined();
    await t.start();
    expect(t.saslMechanism).toBe("PLAIN");
  });

  it("the online event says whether the stream features advertised roster versioning (RFC 6121 §2.6.1)", async () => {
    const seen: (boolean | undefined)[] = [];
    for (const rosterVer of [true, false]) {
      server = await startFakeServer({ mechanisms: ["PLAIN"], rosterVer });
      const { t } = transportOn(server.port);
      t.on("online", (p) => void seen.push(p.rosterVersioning));
      await t.start();
      await t.stop();
      await server.close();
    }
    expect(seen).toEqual([true, false]);
  });

  it("an inbound stanza nested too deep: one warning, counted as botrun_stanzas_dropped_total{reason=\"too-deep\"}", async () => {
    const hostile = (server = await startHostileServer());
    const { t, lines } = transportOn(hostile.port);
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    metrics.watch({ name: "deep", runtime: new BotRuntime(new Bot({ name: "deep" }), t), transport: t });
    const after = new Promise<void>((r) => t.on("stanza", (el) => el.attrs.id === "after" && r()));
    await t.start();
    const deep = `<message from='a@localhost/x' type='chat' id='deep'>${"<a>".repeat(150)}${"</a>".repeat(150)}</message>`;
    hostile.write(1, deep + `<message from='a@localhost/x' type='chat' id='after'><body>x</body></message>`);
    await after;
    expect(t.stats.droppedTooDeep).toBe(1);
    const warned = lines.filter((l) => l.includes("dropped an inbound stanza"));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain("deep");
    expect(await metrics.metrics()).toContain('botrun_stanzas_dropped_total{bot="deep",reason="too-deep"} 1');
  });

  it("initial presence goes out only after the roster get was answered (RFC 6121 §2.2), with the runtime's caps", async () => {
    const fake = (server = await startFakeServer({ mechanisms: ["PLAIN"], rosterDelayMs: 200 }));
    const { t } = transportOn(fake.port);
    const runtime = new BotRuntime(new Bot({ name: "order" }), t, { logger: createConsoleLogger({ level: "silent" }) });
    await runtime.start();
    await expect.poll(() => fake.rawBy[0] ?? "", { timeout: 10_000 }).toMatch(/<presence\b/);
    const raw = fake.rawBy[0]!;
    const rosterAt = raw.search(/jabber:iq:roster/);
    const presenceAt = raw.search(/<presence\b/);
    expect(rosterAt).toBeGreaterThan(-1);
    expect(presenceAt).toBeGreaterThan(rosterAt);
    expect(raw.slice(presenceAt)).toMatch(/http:\/\/jabber.org\/protocol\/caps/);
    await runtime.stop();
  });
});
