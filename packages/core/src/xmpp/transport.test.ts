// The XMPP transport against a scripted loopback server: SASL, TLS refusal, timeouts, XEP-0198, reconnects, stop.
import { afterEach, describe, expect, it } from "vitest";
import { createXmppTransport, XmppAuthError, type XmppTransport } from "./index.ts";
import { loadConfig, type BotConfig } from "../config/index.ts";
import { createConsoleLogger, silentLogger } from "../logger.ts";
import { PermanentAuthError, type TokenProvider } from "../auth/types.ts";
import { ExitCode } from "../exit-codes.ts";
import { startFakeServer, type FakeServer } from "../../test-support/fake-server.ts";
import { createTokenProvider } from "../auth/create-provider.ts";
import { startFakeDns } from "../../test-support/fake-dns.ts";
import { TransportStoppedError } from "./errors.ts";
import net from "node:net";
import xml from "@xmpp/xml";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

let server: FakeServer | undefined;
let transport: XmppTransport | undefined;
afterEach(async () => {
  await transport?.stop();
  await server?.close();
  transport = server = undefined;
});

const cfg = (port: number, env: Record<string, string> = {}): BotConfig =>
  loadConfig({
    XMPP_SERVICE: `xmpp://127.0.0.1:${port}`,
    XMPP_DOMAIN: "localhost",
    XMPP_ALLOW_INSECURE: "1",
    XMPP_START_ATTEMPTS: "1",
    XMPP_RECONNECT_BASE_DELAY: "0.01",
    ...env,
  })!;

/** Poll `cond` every 10 ms; true once it holds, false after `ms`. */
async function within(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** A TCP server that accepts connections and never says anything. */
async function silentServer(): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  const st = { port: 0, connections: 0, close: async () => {} };
  const srv = net.createServer((s) => {
    st.connections++;
    socks.add(s);
    s.on("error", () => {});
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  st.port = (srv.address() as net.AddressInfo).port;
  st.close = async () => {
    for (const s of socks) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  };
  return st;
}

const provider = (tokens: string[], calls: { force: boolean }[] = []): TokenProvider => ({
  async getAccessToken(o) {
    calls.push({ force: Boolean(o?.forceRefresh) });
    return tokens[Math.min(calls.length - 1, tokens.length - 1)]!;
  },
});

describe("XMPP transport against a scripted server", () => {
  it("sends X-MESSENGER-OAUTH2 tokens byte for byte", async () => {
    for (const token of ["EwB4Aq1DBAAU+/wx=abc==", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib3QiLCJleHAiOjF9.c2ln-_x"]) {
      server = await startFakeServer({ mechanisms: ["SCRAM-SHA-1", "PLAIN", "X-MESSENGER-OAUTH2"] });
      transport = createXmppTransport({ config: cfg(server.port, { XMPP_ACCESS_TOKEN: token }), logger: silentLogger });
      await transport.start();
      expect(transport.jid).toBe("bot@localhost/r1");
      expect(server.auths).toEqual([{ mechanism: "X-MESSENGER-OAUTH2", text: token }]);
      await transport.stop();
      await server.close();
    }
  });

  it("refuses to send credentials on an unencrypted stream unless allowed", async () => {
    server = await startFakeServer({ mechanisms: ["X-MESSENGER-OAUTH2"] });
    transport = createXmppTransport({ config: cfg(server.port, { XMPP_ACCESS_TOKEN: "tok1234", XMPP_ALLOW_INSECURE: "0" }), logger: silentLogger });
    const err = await transport.start().then(() => undefined, (e: Error & { exitCode: number; step: string }) => e);
    expect(err?.step).toBe("TLS");
    expect(err?.exitCode).toBe(ExitCode.CONFIG);
    expect(server.auths).toEqual([]);
    expect(server.received.join("")).not.toContain("tok1234");
  });

  it("names the offered mechanisms when the configured one is missing", async () => {
    server = await startFakeServer({ mechanisms: ["SCRAM-SHA-1", "PLAIN"] });
    transport = createXmppTransport({ config: cfg(server.port, { XMPP_ACCESS_TOKEN: "tok1234" }), logger: silentLogger });
    const err = await transport.start().then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(XmppAuthError);
    expect(err?.message).toContain("does not offer X-MESSENGER-OAUTH2; it offers SCRAM-SHA-1, PLAIN");
  });

  it("lets onBeforeSasl pick the mechanism and credentials per connect", async () => {
    server = await startFakeServer({ mechanisms: ["PLAIN", "X-MESSENGER-OAUTH2"] });
    const seen: string[][] = [];
    transport = createXmppTransport({
      config: cfg(server.port, { XMPP_ACCESS_TOKEN: "unused-token" }),
      logger: silentLogger,
      onBeforeSasl: (ctx) => {
        seen.push(ctx.offered);
        return { mechanism: "PLAIN", credentials: { username: "bot", password: "pw" } };
      },
    });
    await transport.start();
    expect(seen).toEqual([["PLAIN", "X-MESSENGER-OAUTH2"]]);
    expect(server.auths[0]!.mechanism).toBe("PLAIN");
    expect(Buffer.from(server.auths[0]!.text, "base64").toString()).toBe("\0bot\0pw");
  });

  it("on not-authorized refreshes the token once and retries; a second refusal is fatal REAUTH", async () => {
    server = await startFakeServer({ mechanisms: ["X-MESSENGER-OAUTH2"], verdict: (a) => (a.text === "good-token" ? "success" : "not-authorized") });
    const calls: { force: boolean }[] = [];
    transport = createXmppTransport({ config: cfg(server.port, { XMPP_ACCESS_TOKEN: "x" }), tokenProvider: provider(["stale-token", "good-token"], calls), logger: silentLogger });
    await transport.start();
    expect(calls).toEqual([{ force: false }, { force: true }]);
    await transport.stop();
    await server.close();

    server = await startFakeServer({ mechanisms: ["X-MESSENGER-OAUTH2"], verdict: () => "not-authorized" });
    const calls2: { force: boolean }[] = [];
    transport = createXmppTransport({ config: cfg(server.port, { XMPP_ACCESS_TOKEN: "x" }), tokenProvider: provider(["bad1", "bad2"], calls2), logger: silentLogger });
    const err = await transport.start().then(() => undefined, (e: Error & { exitCode: number }) => e);
    expect(err?.exitCode).toBe(ExitCode.REAUTH);
    expect(err?.message).toMatch(/not-authorized.*botrun auth/);
    expect(server.auths.map((a) => a.text)).toEqual(["bad1", "bad2"]);
  });

  it("a PermanentAuthError from the provider is fatal REAUTH without touching the wire", async () => {
    server = await startFakeServer({ mechanisms: ["X-MESSENGER-OAUTH2"] });
    const tp: TokenProvider = { getAccessToken: async () => Promise.reject(new PermanentAuthError("consent revoked", "invalid_grant")) };
    transport = createXmppTransport({ config: cfg(server.port, { XMPP_ACCESS_TOKEN: "x" }), tokenProvider: tp, logger: silentLogger });
    const err = await transport.start().then(() => undefined, (e: Error & { exitCode: number }) => e);
    expect(err?.exitCode).toBe(ExitCode.REAUTH);
    expect(err?.message).toContain("invalid_grant");
    expect(server.auths).toEqual([]);
  });

  it("a token provider's configuration error is fatal CONFIG at once (no refresh token yet, corrupt token store)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "botrun-store-"));
    try {
      writeFileSync(path.join(dir, "echo.json"), '{"refreshToken": "SECRET-RT', { mode: 0o600 });
      for (const storeSpec of ["memory:", dir]) {
        server = await startFakeServer({ mechanisms: ["X-MESSENGER-OAUTH2"] });
        const tp = createTokenProvider({ clientId: "cid", storeSpec, accountKey: "echo", tokenUrl: "http://127.0.0.1:9/token" });
        transport = createXmppTransport({
          config: cfg(server.port, { XMPP_ACCESS_TOKEN: "x", XMPP_START_ATTEMPTS: "5" }),
          tokenProvider: tp,
          logger: silentLogger,
        });
        const err = await transport.start().then(() => undefined, (e: Error & { exitCode: number }) => e);
        expect(err?.exitCode).toBe(ExitCode.CONFIG);
        expect(err?.message).toMatch(storeSpec === dir ? /not a valid token file.*BOTRUN_TOKEN_STORE/ : /no OAuth refresh token for echo/);
        expect(err?.message).not.toContain("SECRET-RT");
        expect(server.connections).toBe(1);
        await transport.stop();
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stop() during the SRV lookup ends the connect attempt: no connection afterwards", async () => {
    const silent = await silentServer();
    const dns = await startFakeDns({ "_xmpp-client._tcp.botrun.test": [{ target: "127.0.0.1", port: silent.port }] }, { hold: true });
    try {
      transport = createXmppTransport({
        config: loadConfig({ XMPP_DOMAIN: "botrun.test", XMPP_DNS_SERVER: dns.address, XMPP_ACCESS_TOKEN: "tok12345", XMPP_ALLOW_INSECURE: "1", XMPP_CONNECT_TIMEOUT: "8" })!,
        logger: silentLogger,
      });
      const started = transport.start().then(() => undefined, (e: unknown) => e);
      await dns.firstQuery;
      const t0 = Date.now();
      const stopping = transport.stop();
      dns.release();
      await stopping;
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(await started).toBeInstanceOf(TransportStoppedError);
      // The answer is out: a transport that kept going would connect within milliseconds.
      expect(await within(() => silent.connections > 0, 500)).toBe(false);
    } finally {
      await dns.close();
      await silent.close();
    }
  });

  it("see-other-host: only the attempt right after the redirect is immediate; later reconnects back off", async () => {
    const target = await startFakeServer({ mechanisms: ["X-MESSENGER-OAUTH2"] });
    server = await startFakeServer({ mechanisms: ["X-MESSENGER-OAUTH2"], seeOtherHost: () => `127.0.0.1:${target.port}` });
    try {
      transport = createXmppTransport({ config: cfg(server.port, { XMPP_ACCESS_TOKEN: "tok1234" }), logger: silentLogger, random: () => 0.5 });
      const delays: number[] = [];
      transport.on("reconnecting", (p) => delays.push(p.delayMs));
      await transport.start();
      expect(server.connections).toBe(1);
      expect(target.connections).toBe(1);
      expect(delays).toEqual([0]);
      for (let i = 2; i <= 3; i++) {
        const back = new Promise<void>((r) => transport!.once("online", () => r()));
        target.dropAll();
        await back;
        expect(target.connections).toBe(i);
      }
      expect(delays).toHaveLength(3);
      expect(delays.slice(1).every((d) => d > 0)).toBe(true);
      expect(server.connections).toBe(1);
    } finally {
      await target.close();
    }
  });

  describe("XEP-0198 enable", () => {
    const msg = (id: string) => xml("message", { to: "peer@localhost", type: "chat", id }, xml("body", {}, id));
    const errors: string[] = [];
    const logger = createConsoleLogger({ level: "warn", write: (l) => void errors.push(l) });

    it("nothing is written between <enable/> and <enabled/>; stanzas sent meanwhile arrive on the next stream", async () => {
      errors.length = 0;
      // Connection 1 never answers <enable/> and dies on the first message it sees.
      server = await startFakeServer({ mechanisms: ["PLAIN"], sm: (n) => (n === 1 ? "silent" : "enabled"), dropOnMessage: (n) => n === 1 });
      transport = createXmppTransport({
        config: cfg(server.port, { XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw", XMPP_MECHANISM: "PLAIN", XMPP_SM_ACK_TIMEOUT: "0.3" }),
        logger,
      });
      await transport.start();
      await transport.send(msg("m1"));
      await transport.send(msg("m2"));
      expect(await within(() => server!.connections === 2 && transport!.streamManagement, 3000)).toBe(true);
      await transport.send(msg("m3"));
      expect(await within(() => server!.messages[1]!.length === 3 && transport!.unackedCount === 0, 3000)).toBe(true);
      expect(server.messages).toEqual([[], ["m1", "m2", "m3"]]);
      expect(transport.outboxDepth).toBe(0);
      expect(errors.join("\n")).not.toMatch(/queue should be empty/);
    });

    it("stanzas unacknowledged on a stream that cannot be resumed are sent again on the next one", async () => {
      errors.length = 0;
      // Connection 1 enables SM without resumption, never acknowledges, and dies on m2.
      server = await startFakeServer({ mechanisms: ["PLAIN"], sm: (n) => (n === 1 ? "enabled-no-resume" : "enabled"), dropOnMessage: (n, id) => n === 1 && id === "m2" });
      transport = createXmppTransport({ config: cfg(server.port, { XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw", XMPP_MECHANISM: "PLAIN" }), logger });
      await transport.start();
      expect(await within(() => transport!.streamManagement, 3000)).toBe(true);
      await transport.send(msg("m1"));
      await transport.send(msg("m2"));
      expect(await within(() => server!.connections === 2 && server!.messages[1]!.length === 2, 3000)).toBe(true);
      expect(server.messages).toEqual([["m1"], ["m1", "m2"]]);
      expect(await within(() => transport!.unackedCount === 0, 3000)).toBe(true);
      expect(errors.join("\n")).not.toMatch(/queue should be empty/);
    });

    it("stop(): a stream lost while it waits for the server's acks ends that wait at once, not at XMPP_STOP_TIMEOUT", async () => {
      const lines: string[] = [];
      const debug = createConsoleLogger({ level: "debug", write: (l) => void lines.push(l) });
      server = await startFakeServer({ mechanisms: ["PLAIN"], sm: () => "enabled", ignoreAckRequests: () => true });
      transport = createXmppTransport({
        config: cfg(server.port, { XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw", XMPP_MECHANISM: "PLAIN", XMPP_STOP_TIMEOUT: "20" }),
        logger: debug,
      });
      await transport.start();
      expect(await within(() => transport!.streamManagement, 3000)).toBe(true);
      await transport.send(msg("m1"));
      expect(await within(() => server!.messages[0]!.length === 1, 3000)).toBe(true);
      const t0 = performance.now();
      const stopped = transport.stop();
      expect(await within(() => lines.some((l) => l.includes("waiting for the server's XEP-0198 acks")), 3000)).toBe(true);
      server.dropAll(); // the resumable session keeps its ledger: only the loss can end the wait early
      await stopped;
      expect(performance.now() - t0).toBeLessThan(10_000);
      expect(lines.join("\n")).toMatch(/stop: stanzas not acknowledged by the server.*count/);
    });

    it("<failed/> to <enable/>: the stream goes on without XEP-0198 and nothing stays queued for acks", async () => {
      errors.length = 0;
      server = await startFakeServer({ mechanisms: ["PLAIN"], sm: (n) => (n === 1 ? "failed" : "enabled") });
      transport = createXmppTransport({ config: cfg(server.port, { XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw", XMPP_MECHANISM: "PLAIN" }), logger });
      await transport.start();
      await transport.send(msg("m1"));
      expect(await within(() => server!.messages[0]!.length === 1, 3000)).toBe(true);
      expect(transport.unackedCount).toBe(0);
      expect(transport.streamManagement).toBe(false);
      const back = new Promise<void>((r) => transport!.once("online", () => r()));
      server.dropAll();
      await back;
      await transport.send(msg("m2"));
      expect(await within(() => server!.messages[1]?.length === 1 && transport!.streamManagement, 3000)).toBe(true);
      expect(server.messages).toEqual([["m1"], ["m2"]]);
      expect(errors.join("\n")).not.toMatch(/queue should be empty/);
    });
  });

  it("a stream error with the server never closing: one reconnect, and the old stream's close does not touch the new one", async () => {
    server = await startFakeServer({ mechanisms: ["PLAIN"], streamErrorOnMessage: (n) => n === 1 });
    transport = createXmppTransport({
      config: cfg(server.port, { XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw", XMPP_MECHANISM: "PLAIN", XMPP_CONNECT_TIMEOUT: "1" }),
      logger: silentLogger,
    });
    const offline: string[] = [];
    transport.on("offline", (p) => offline.push(p.reason));
    await transport.start();
    const back = new Promise<void>((r) => transport!.once("online", () => r()));
    await transport.send(xml("message", { to: "peer@localhost", id: "boom" }, xml("body", {}, "x")));
    await back;
    expect(server.connections).toBe(2);
    await transport.send(xml("message", { to: "peer@localhost", id: "m2" }, xml("body", {}, "x")));
    expect(await within(() => server!.messages[1]?.length === 1, 2000)).toBe(true);
    // xmpp.js gives up waiting for the old stream's close after 1 s (XMPP_CONNECT_TIMEOUT); the new stream must survive that.
    expect(await within(() => offline.length > 1 || server!.connections > 2, 3000)).toBe(false);
    expect(transport.jid).toBe("bot@localhost/r2");
  });

  it("a conflict stream error: `offline` names it (the fleet stops there) and the reconnect waits its backoff, never at once", async () => {
    server = await startFakeServer({ mechanisms: ["PLAIN"], streamErrorOnMessage: (n) => n === 1 });
    transport = createXmppTransport({
      config: cfg(server.port, { XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw", XMPP_MECHANISM: "PLAIN", XMPP_RECONNECT_BASE_DELAY: "0.5" }),
      logger: silentLogger,
      random: () => 1,
    });
    const events: string[] = [];
    transport.on("offline", (p) => events.push(`offline ${p.reason}`));
    transport.on("reconnecting", (p) => events.push(`reconnecting ${p.delayMs}`));
    await transport.start();
    await transport.send(xml("message", { to: "peer@localhost", id: "kick" }, xml("body", {}, "x")));
    expect(await within(() => events.length >= 2, 3000)).toBe(true);
    expect(events[0]).toMatch(/^offline .*\bconflict\b/);
    expect(events[1]).toBe("reconnecting 500");
  });

  it("a reply to the server's ping is not sent again after a failed resumption", async () => {
    server = await startFakeServer({ mechanisms: ["PLAIN"], sm: () => "enabled", serverPing: (n) => n === 1 });
    transport = createXmppTransport({ config: cfg(server.port, { XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw", XMPP_MECHANISM: "PLAIN" }), logger: silentLogger });
    await transport.start();
    expect(await within(() => server!.connections === 2 && transport!.streamManagement, 3000)).toBe(true);
    expect(server.rawBy[0]).toMatch(/id=["']srvping1["']/);
    expect(server.rawBy[1]).toMatch(/<resume /);
    await transport.send(xml("message", { to: "peer@localhost", id: "after" }, xml("body", {}, "x")));
    expect(await within(() => server!.messages[1]?.length === 1, 3000)).toBe(true);
    expect(server.rawBy[1]).not.toMatch(/srvping1/);
  });

  it("times out a silent SASL exchange", async () => {
    server = await startFakeServer({ mechanisms: ["X-MESSENGER-OAUTH2"], verdict: () => "silent" });
    transport = createXmppTransport({ config: cfg(server.port, { XMPP_ACCESS_TOKEN: "tok1234", XMPP_SASL_TIMEOUT: "0.3" }), logger: silentLogger });
    const err = await transport.start().then(() => undefined, (e: Error & { step: string }) => e);
    expect(err?.step).toBe("SASL");
    expect(err?.message).toMatch(/no answer from the server within 300 ms/);
  });

  it("a server that stalls after the TCP connect: the error says what it waited for", async () => {
    const silent = await silentServer();
    try {
      transport = createXmppTransport({ config: cfg(silent.port, { XMPP_ACCESS_TOKEN: "tok1234", XMPP_CONNECT_TIMEOUT: "2" }), logger: silentLogger });
      const err = await transport.start().then(() => undefined, (e: Error & { step: string; exitCode: number }) => e);
      expect(err?.exitCode).toBe(ExitCode.UNAVAILABLE);
      expect(err?.message).toBe("stream features: no answer from the server within 1000 ms");
    } finally {
      await silent.close();
    }
  });

  it("a server offering no SASL mechanism: a server state (exit 4 at start), not a configuration error", async () => {
    server = await startFakeServer({ mechanisms: [] });
    transport = createXmppTransport({ config: cfg(server.port, { XMPP_ACCESS_TOKEN: "tok1234", XMPP_START_ATTEMPTS: "2" }), logger: silentLogger });
    const err = await transport.start().then(() => undefined, (e: Error & { step: string; exitCode: number }) => e);
    expect(err?.exitCode).toBe(ExitCode.UNAVAILABLE);
    expect(err?.message).toMatch(/^SASL: the server offers no SASL mechanism/);
    expect(server.connections).toBe(2); // retried like any server-side failure
  });

  it("XMPP_ALLOW_INSECURE with an SRV target that is not loopback: config error, nothing connected", async () => {
    const dns = await startFakeDns({ "_xmpp-client._tcp.botrun.test": [{ target: "xmpp.example.net", port: 5222 }] });
    try {
      transport = createXmppTransport({
        config: loadConfig({ XMPP_DOMAIN: "botrun.test", XMPP_DNS_SERVER: dns.address, XMPP_ACCESS_TOKEN: "tok12345", XMPP_ALLOW_INSECURE: "1" })!,
        logger: silentLogger,
      });
      const err = await transport.start().then(() => undefined, (e: Error & { exitCode: number }) => e);
      expect(err?.exitCode).toBe(ExitCode.CONFIG);
      expect(err?.message).toMatch(/^XMPP_ALLOW_INSECURE: expected only with a loopback server.*"xmpp\.example\.net"/);
    } finally {
      await dns.close();
    }
  });

  it("names TCP connect failures", async () => {
    server = await startFakeServer({ mechanisms: [] });
    const port = server.port;
    await server.close();
    server = undefined;
    transport = createXmppTransport({ config: cfg(port, { XMPP_ACCESS_TOKEN: "tok1234" }), logger: silentLogger });
    const err = await transport.start().then(() => undefined, (e: Error & { step: string; exitCode: number }) => e);
    expect(err?.step).toBe("TCP connect");
    expect(err?.exitCode).toBe(ExitCode.UNAVAILABLE);
    expect(err?.message).toContain("ECONNREFUSED");
  });

  it("detects a black-holed connection by ping and reconnects", async () => {
    server = await startFakeServer({ mechanisms: ["X-MESSENGER-OAUTH2"], blackHoleAfterOnline: true });
    transport = createXmppTransport({
      config: cfg(server.port, { XMPP_ACCESS_TOKEN: "tok1234", XMPP_PING_INTERVAL: "0.2", XMPP_PING_TIMEOUT: "0.3" }),
      logger: silentLogger,
    });
    const offline = new Promise<string>((r) => transport!.once("offline", (p) => r(p.reason)));
    const started = Date.now();
    await transport.start();
    expect(await offline).toMatch(/ping/);
    expect(Date.now() - started).toBeLessThan(3000);
    await new Promise<void>((r) => transport!.once("reconnecting", () => r()));
    await new Promise<void>((r) => { const t = setInterval(() => { if (server!.connections >= 2) { clearInterval(t); r(); } }, 10); });
    expect(server.connections).toBeGreaterThanOrEqual(2);
  });

  it("keeps SASL payloads out of the debug trace and logs", async () => {
    server = await startFakeServer({ mechanisms: ["X-MESSENGER-OAUTH2"] });
    const lines: string[] = [];
    const orig = console.debug;
    console.debug = (...a: unknown[]) => void lines.push(a.join(" "));
    try {
      transport = createXmppTransport({
        config: cfg(server.port, { XMPP_ACCESS_TOKEN: "SeCrEt+tok/en==" }),
        logger: createConsoleLogger({ level: "trace", write: (l) => lines.push(l) }),
        debug: true,
      });
      await transport.start();
      await transport.stop();
    } finally {
      console.debug = orig;
    }
    expect(lines.join("\n")).toContain("X-MESSENGER-OAUTH2");
    expect(lines.join("\n")).not.toContain("SeCrEt+tok/en==");
  });
});
