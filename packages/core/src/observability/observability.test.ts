// The service pieces without a server: the pino logger (JSON and pretty, key and value redaction),
// metrics fed by a real runtime on the offline test transport, and the HTTP endpoint on loopback.
import { afterEach, describe, expect, it } from "vitest";
import { Bot } from "../bot.ts";
import { isRegisteredSecret, redactString, registerSecret } from "../logger.ts";
import { BotRuntime } from "../runtime/runtime.ts";
import { xml } from "../stanza.ts";
import { TestTransport } from "../testing/test-transport.ts";
import { TypedEmitter } from "../emitter.ts";
import type { TokenProviderEvents } from "../auth/types.ts";
import { startHttpEndpoint, type HttpEndpoint } from "./http-server.ts";
import { ServiceMetrics } from "./metrics.ts";
import { createPinoLogger } from "./pino-logger.ts";
import { formatPretty } from "./pretty.ts";

describe("createPinoLogger", () => {
  it("writes JSON lines with level, message, child fields and masked secrets", () => {
    const lines: string[] = [];
    const secret = "s3cr3t-VALUE-" + Math.random().toString(36).slice(2);
    registerSecret(secret);
    const log = createPinoLogger({ format: "json", level: "debug", write: (l) => lines.push(l) });
    const child = log.child({ bot: "echo" }).child({ conn: 2 });
    child.info(`token is ${secret}`, { password: "hunter2-pw", nested: { accessToken: "abc", note: `x${secret}y` }, n: 1 });
    child.debug("dbg");
    child.trace("hidden");
    expect(lines).toHaveLength(2);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec).toMatchObject({ level: "info", bot: "echo", conn: 2, n: 1, password: "[redacted]", nested: { accessToken: "[redacted]" } });
    expect(lines.join("")).not.toContain(secret);
    expect(lines.join("")).not.toContain("hunter2-pw");
    expect(rec.msg).toBe("token is [redacted]");
  });

  it("masks a registered secret in every encoding: percent-, form-, base64(url)-encoded and JSON-escaped, in JSON and pretty lines", () => {
    const secret = `pw "quoted" \\ a/b+c=${Math.random().toString(36).slice(2)}`;
    registerSecret(secret);
    const forms = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2), Buffer.from(secret).toString("base64"), Buffer.from(secret).toString("base64url")];
    for (const format of ["json", "pretty"] as const) {
      const lines: string[] = [];
      const log = createPinoLogger({ format, color: false, write: (l) => lines.push(l) });
      log.warn(`echoed: ${forms.join(" ")}`, { description: `error_description=${forms[2]}` });
      const out = lines.join("");
      for (const f of forms) expect(out).not.toContain(f.replace(/=+$/, ""));
      expect(out).not.toContain(JSON.stringify(secret).slice(1, -1));
      expect(out.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(6);
    }
  });

  it("masks a secret inside a larger base64 or base64url blob at any alignment (HTTP Basic echoed back)", () => {
    const secret = `cs-${Math.random().toString(36).slice(2)}~?>`; // '~?>' gives '+' and '/' in base64
    registerSecret(secret);
    for (const prefix of ["app:", "app-1:", "app-12:", "a:"]) {
      for (const suffix of ["", "x", "xy", ":tail-bytes"]) {
        for (const enc of ["base64", "base64url"] as const) {
          const blob = Buffer.from(prefix + secret + suffix).toString(enc);
          const out = redactString(`Authorization: Basic ${blob} was refused`);
          expect(out).not.toContain(blob);
          // What is left of the blob either side carries the prefix and suffix only, never the secret.
          const m = /Basic ([A-Za-z0-9+/_-]*)\[redacted\]([A-Za-z0-9+/_=-]*) was/.exec(out);
          expect(m, `${prefix}|${suffix} ${enc}: ${out}`).not.toBeNull();
          expect(m![1]!.length).toBeLessThanOrEqual(Math.ceil((prefix.length * 4) / 3));
          expect(m![2]!.length).toBeLessThanOrEqual(Math.ceil((suffix.length * 4) / 3) + 3);
        }
      }
    }
  });

  it("keeps long-lived secrets masked however many others are registered; rotating ones are a bounded LRU", () => {
    const password = `long-lived-pw-${Math.random().toString(36).slice(2)}`;
    registerSecret(password);
    for (let i = 0; i < 5000; i++) registerSecret(`other-long-lived-${i}-${Math.random().toString(36).slice(2)}`);
    for (let i = 0; i < 5000; i++) registerSecret(`access-token-${i}-${Math.random().toString(36).slice(2)}`, { rotating: true });
    expect(isRegisteredSecret(password)).toBe(true);
    expect(redactString(`pw=${password}`)).toBe("pw=[redacted]");
    const recent = "access-token-recent-0123";
    registerSecret(recent, { rotating: true });
    for (let i = 0; i < 100; i++) registerSecret(`access-token-more-${i}`, { rotating: true });
    expect(isRegisteredSecret(recent)).toBe(true);
    for (let i = 0; i < 5000; i++) registerSecret(`access-token-flood-${i}`, { rotating: true });
    expect(isRegisteredSecret(recent)).toBe(false); // an old access token falls out
    expect(isRegisteredSecret(password)).toBe(true);
  });

  it("serializes errors given as fields, with secrets in their message masked", () => {
    const lines: string[] = [];
    const secret = "err-secret-" + Math.random().toString(36).slice(2);
    registerSecret(secret);
    const log = createPinoLogger({ format: "json", write: (l) => lines.push(l) });
    log.error("failed", { error: new Error(`bad ${secret}`) });
    const rec = JSON.parse(lines[0]!) as { error: { message: string; name: string } };
    expect(rec.error).toMatchObject({ name: "Error", message: "bad [redacted]" });
  });

  it("pretty format gives one readable line per record", () => {
    const lines: string[] = [];
    const log = createPinoLogger({ format: "pretty", color: false, write: (l) => lines.push(l) });
    log.child({ bot: "echo", component: "xmpp" }).warn("offline", { reason: "connection closed" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  \[echo\/xmpp\] offline reason="connection closed"\n$/);
    expect(formatPretty("not json")).toBe("not json");
  });

  it("level silent writes nothing", () => {
    const lines: string[] = [];
    createPinoLogger({ level: "silent", format: "json", write: (l) => lines.push(l) }).error("x");
    expect(lines).toEqual([]);
  });
});

/** A token provider event source for the metrics. */
class FakeProvider extends TypedEmitter<TokenProviderEvents> {
  async getAccessToken(): Promise<string> {
    return "unused";
  }
}

function setup() {
  const bot = new Bot({ name: "echo" });
  bot.on("message:body", async (ctx) => {
    if (ctx.text === "boom") throw new Error("boom");
    await ctx.reply(ctx.text ?? "");
  });
  const transport = new TestTransport({ jid: "echo@botrun.test/r" });
  const runtime = new BotRuntime(bot, transport, { logger: createPinoLogger({ level: "silent" }) });
  const metrics = new ServiceMetrics({ defaultMetrics: false });
  const provider = new FakeProvider();
  metrics.watch({ name: "echo", runtime, transport, tokenProvider: provider });
  return { bot, transport, runtime, metrics, provider };
}

const inbound = (body: string) =>
  xml("message", { from: "alice@botrun.test/x", to: "echo@botrun.test/r", type: "chat", id: body }, xml("body", {}, body));
const sample = (text: string, name: string) => {
  const m = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  return m === undefined ? undefined : Number(m.split(" ").pop());
};

describe("ServiceMetrics", () => {
  it("counts stanzas in and out, handler errors, latency, reconnects and token refreshes per bot", async () => {
    const { transport, runtime, metrics, provider } = setup();
    expect(metrics.ready).toBe(false);
    expect(metrics.status().echo!.state).toBe("starting");
    await runtime.start();
    expect(metrics.ready).toBe(true);
    await runtime.handle(inbound("hi"));
    await runtime.handle(inbound("boom"));
    transport.emit("offline", { reason: "test" });
    expect(metrics.ready).toBe(false);
    transport.emit("reconnecting", { attempt: 1, delayMs: 10 });
    transport.emit("online", { jid: "echo@botrun.test/r2", resumed: false });
    provider.emit("refreshed", { expiresAt: undefined });
    provider.emit("refresh-failed", { error: new Error("down"), permanent: false });
    const text = await metrics.metrics();
    expect(sample(text, 'botrun_stanzas_in_total{bot="echo"}')).toBe(2);
    expect(sample(text, 'botrun_stanzas_out_total{bot="echo"}')).toBe(1);
    expect(sample(text, 'botrun_handler_errors_total{bot="echo"}')).toBe(1);
    expect(sample(text, 'botrun_handler_duration_seconds_count{bot="echo"}')).toBe(2);
    expect(sample(text, 'botrun_reconnects_total{bot="echo"}')).toBe(1);
    expect(sample(text, 'botrun_token_refreshes_total{bot="echo"}')).toBe(1);
    expect(sample(text, 'botrun_token_refresh_failures_total{bot="echo",permanent="false"}')).toBe(1);
    expect(sample(text, 'botrun_bot_online{bot="echo"}')).toBe(1);
    expect(sample(text, 'botrun_bot_state{bot="echo",state="online"}')).toBe(1);
    expect(sample(text, 'botrun_bot_state{bot="echo",state="offline"}')).toBe(0);
    expect(sample(text, 'botrun_outbox_depth{bot="echo"}')).toBe(0);
    expect(metrics.status().echo).toMatchObject({ state: "online", jid: "echo@botrun.test/r2", reconnects: 1, transport: "test" });
    await runtime.stop(3);
    expect(metrics.status().echo).toMatchObject({ state: "failed", exitCode: 3 });
    transport.emit("online", { jid: "late", resumed: false });
    expect(metrics.status().echo!.state).toBe("failed");
  });

  it("each instance has its own registry", async () => {
    const a = new ServiceMetrics({ defaultMetrics: false });
    const b = new ServiceMetrics();
    expect(a.registry).not.toBe(b.registry);
    expect(await b.metrics()).toMatch(/process_resident_memory_bytes/);
    expect(await a.metrics()).not.toMatch(/process_resident_memory_bytes/);
  });
});

describe("HTTP endpoint", () => {
  let http: HttpEndpoint | undefined;
  afterEach(async () => {
    await http?.close();
    http = undefined;
  });

  it("serves /healthz, /readyz (503 until online, then 200) and /metrics on loopback", async () => {
    const { runtime, metrics } = setup();
    http = await startHttpEndpoint({ metrics, port: 0 });
    expect(http.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${http.url}/healthz`);
    expect(health.status).toBe(200);
    const notReady = await fetch(`${http.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ ready: false, bots: { echo: { state: "starting" } } });
    await runtime.start();
    const ready = await fetch(`${http.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, bots: { echo: { state: "online", jid: "echo@botrun.test/r" } } });
    const m = await fetch(`${http.url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get("content-type")).toMatch(/text\/plain/);
    expect(await m.text()).toMatch(/botrun_bot_online\{bot="echo"\} 1/);
    expect((await fetch(`${http.url}/nope`)).status).toBe(404);
    expect((await fetch(`${http.url}/healthz`, { method: "POST" })).status).toBe(405);
    await runtime.stop();
  });

  it("refuses a port in use", async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    http = await startHttpEndpoint({ metrics, port: 0 });
    await expect(startHttpEndpoint({ metrics, port: http.port })).rejects.toMatchObject({ code: "EADDRINUSE" });
  });
});
