// Small XMPP building blocks: backoff, SRV ordering, SASL mechanisms, error classification, keepalive.
import { describe, expect, it } from "vitest";
import xml from "@xmpp/xml";
import type { SrvRecord } from "node:dns";
import { backoffDelay } from "./backoff.ts";
import { orderSrv } from "./srv.ts";
import { messengerOAuth2, plain } from "./sasl-mechanisms.ts";
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
