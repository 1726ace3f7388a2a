// Small XMPP building blocks: backoff, SRV ordering, SASL mechanisms, error classification, keepalive.
import { describe, expect, it } from "vitest";
import xml from "@xmpp/xml";
import type { SrvRecord } from "node:dns";
import { backoffCeiling, backoffDelay } from "./backoff.ts";
import { orderSrv } from "./srv.ts";
import { mechanismFor, messengerOAuth2, plain } from "./sasl-mechanisms.ts";
import { MECHANISMS } from "../config/config.ts";
import type { ScramHash } from "./scram.ts";
import { scramServer } from "../../test-support/scram-server.ts";
import { classifyError } from "./errors.ts";
import { silentLogger } from "../logger.ts";
import { startKeepalive } from "./keepalive.ts";

describe("backoffDelay", () => {
  const o = { baseMs: 1000, maxMs: 30_000 };
  it("grows exponentially, is capped, and jitters over [0, cap)", () => {
    expect(backoffDelay(1, { ...o, random: () => 0.999999 })).toBe(999);
    expect(backoffDelay(3, { ...o, random: () => 0.5 })).toBe(2000);
    expect(backoffDelay(10, { ...o, random: () => 0.5 })).toBe(15_000);
    expect(backoffDelay(1000, { ...o, random: () => 0.999999 })).toBeLessThan(30_000);
    expect(backoffDelay(5, { ...o, random: () => 0 })).toBe(0);
  });
  it("backoffCeiling is the cap the jitter draws under: base·2^(attempt-1), at most max", () => {
    expect([1, 2, 3, 5, 6, 1000].map((n) => backoffCeiling(n, o))).toEqual([1000, 2000, 4000, 16_000, 30_000, 30_000]);
    expect(backoffDelay(4, { ...o, random: () => 1 })).toBe(backoffCeiling(4, o));
  });
});

describe("orderSrv", () => {
  const rec = (name: string, priority: number, weight: number): SrvRecord => ({ name, port: 5222, priority, weight });
  it("orders by priority and picks by weight within a priority", () => {
    const recs = [rec("c", 20, 0), rec("a", 10, 90), rec("b", 10, 10)];
    expect(orderSrv(recs, () => 0.95).map((r) => r.name)).toEqual(["a", "b", "c"]);
    expect(orderSrv(recs, () => 0.0).map((r) => r.name)).toEqual(["b", "a", "c"]);
  });
  it("treats a lone '.' target as 'service not offered'", () => {
    expect(orderSrv([rec(".", 0, 0)])).toEqual([]);
  });
});

describe("SASL mechanisms", () => {
  it("X-MESSENGER-OAUTH2 sends the token unchanged", () => {
    for (const t of ["EwBAAq+/z9==", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib3QifQ.abc-_", "a b\u00e9"]) {
      expect(messengerOAuth2({ accessToken: t }).initial()).toBe(t);
    }
  });
  it("PLAIN is base64(\\0user\\0pass)", () => {
    expect(Buffer.from(plain({ username: "u", password: "p" }).initial(), "base64").toString()).toBe("\0u\0p");
  });
});

describe("classifyError", () => {
  it("names TLS, TCP and DNS failures", () => {
    expect(classifyError(Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }), "TCP connect").step).toBe("TLS");
    expect(classifyError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "TCP connect").step).toBe("TCP connect");
    expect(classifyError(Object.assign(new Error("getaddrinfo ENOTFOUND x"), { code: "ENOTFOUND" }), "TCP connect").step).toBe("DNS");
  });
});

describe("keepalive", () => {
  it("declares the link dead when a ping gets no reply", async () => {
    const dead = await new Promise<string>((resolve) => {
      const k = startKeepalive({ intervalMs: 20, timeoutMs: 50, ping: () => new Promise(() => {}), onDead: (r) => { k.stop(); resolve(r); } });
    });
    expect(dead).toMatch(/no reply to ping within 50 ms/);
  });
  it("keeps quiet while pings are answered", async () => {
    let pings = 0;
    let deadCalled = false;
    const k = startKeepalive({ intervalMs: 10, timeoutMs: 50, ping: async () => void pings++, onDead: () => (deadCalled = true) });
    await new Promise<void>((r) => { const t = setInterval(() => { if (pings >= 3) { clearInterval(t); r(); } }, 5); });
    k.stop();
    expect(deadCalled).toBe(false);
  });
});

describe("mechanismFor", () => {
  const b64 = (t: string) => Buffer.from(t).toString("base64");
  const unb64 = (t: string) => Buffer.from(t, "base64").toString("utf8");
  it("every name in config's MECHANISMS (the one list) gets the implementation its name says", async () => {
    const creds = { username: "bot", password: "pw", accessToken: "tok" };
    for (const name of MECHANISMS) {
      if (name === "auto") continue;
      const plus = name.endsWith("-PLUS");
      const session = mechanismFor(name)(creds, { binding: plus ? { flag: "p", type: "tls-exporter", data: Buffer.from("cb") } : { flag: "n" } });
      if (name === "X-MESSENGER-OAUTH2") expect(session.initial()).toBe("tok");
      else if (name === "PLAIN") expect(unb64(session.initial())).toBe("\0bot\0pw");
      else {
        const hash = /^SCRAM-(SHA-\d+)/.exec(name)![1] as ScramHash;
        const server = scramServer({ hash, password: "pw" }); // the proof only verifies with the right hash
        const serverFinal = server.final(unb64(await session.challenge(b64(server.first(unb64(session.initial()))))));
        session.success(b64(serverFinal));
        expect(server.result.gs2Header, name).toBe(plus ? "p=tls-exporter,," : "n,,");
      }
    }
  });
});
