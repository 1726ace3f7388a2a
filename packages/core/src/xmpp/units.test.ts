import { describe, expect, it } from "vitest";
import xml from "@xmpp/xml";
import type { SrvRecord } from "node:dns";
import { backoffDelay } from "./backoff.ts";
import { orderSrv } from "./srv.ts";
import { messengerOAuth2, plain, scramSha1 } from "./sasl-mechanisms.ts";
import { Outbox } from "./outbox.ts";
import { OutboxFullError, classifyError } from "./errors.ts";
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
  it("SCRAM-SHA-1 matches the RFC 5802 example", () => {
    const s = scramSha1({ username: "user", password: "pencil" }, "fyko+d2lbbFgONRv9qkxdawL");
    expect(Buffer.from(s.initial(), "base64").toString()).toBe("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    const serverFirst = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    const final = Buffer.from(s.challenge(Buffer.from(serverFirst).toString("base64")), "base64").toString();
    expect(final).toBe("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    expect(() => s.success(Buffer.from("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").toString("base64"))).not.toThrow();
    expect(() => s.success(Buffer.from("v=AAAApqV8S7suAoZWja4dJRkFsKQ=").toString("base64"))).toThrow(/mismatch/);
  });
});

describe("Outbox", () => {
  const msg = (n: number) => xml("message", { id: String(n) });
  it("holds stanzas while paused and writes them in order once resumed", async () => {
    const written: string[] = [];
    const ob = new Outbox({ limit: 10, overflow: "reject", logger: silentLogger, write: async (el) => void written.push(el.attrs.id) });
    for (let i = 1; i <= 3; i++) await ob.push(msg(i));
    expect(ob.depth).toBe(3);
    expect(written).toEqual([]);
    ob.resume();
    expect(await ob.drain(1000)).toBe(true);
    expect(written).toEqual(["1", "2", "3"]);
  });
  it("rejects with OutboxFullError at the limit (policy reject)", async () => {
    const ob = new Outbox({ limit: 2, overflow: "reject", logger: silentLogger, write: async () => {} });
    await ob.push(msg(1));
    await ob.push(msg(2));
    await expect(ob.push(msg(3))).rejects.toBeInstanceOf(OutboxFullError);
  });
  it("makes send wait for room (policy block)", async () => {
    const written: string[] = [];
    const ob = new Outbox({ limit: 1, overflow: "block", logger: silentLogger, write: async (el) => void written.push(el.attrs.id) });
    await ob.push(msg(1));
    let accepted = false;
    const p = ob.push(msg(2)).then(() => (accepted = true));
    await Promise.resolve();
    expect(accepted).toBe(false);
    ob.resume();
    await p;
    expect(await ob.drain(1000)).toBe(true);
    expect(written).toEqual(["1", "2"]);
  });
  it("puts a failed write and requeued stanzas back in their original order", async () => {
    const written: string[] = [];
    let fail = true;
    const ob = new Outbox({
      limit: 10,
      overflow: "reject",
      logger: silentLogger,
      write: async (el) => {
        if (fail && el.attrs.id === "3") {
          fail = false;
          throw new Error("socket gone");
        }
        written.push(el.attrs.id);
      },
    });
    const els = [1, 2, 3, 4].map(msg);
    for (const e of els) await ob.push(e);
    ob.resume();
    await ob.drain(200); // pauses itself at the failed write of 3
    expect(written).toEqual(["1", "2"]);
    expect(ob.depth).toBe(2);
    ob.requeue(els[1]!); // e.g. not acknowledged before a failed SM resumption
    ob.resume();
    expect(await ob.drain(1000)).toBe(true);
    expect(written).toEqual(["1", "2", "2", "3", "4"]);
  });
});

describe("Outbox fast path", () => {
  const msg = (n: number) => xml("message", { id: String(n) });
  it("writes at once when online and idle, one write at a time, order kept", async () => {
    const written: string[] = [];
    const pending: Array<() => void> = [];
    const ob = new Outbox({
      limit: 10,
      overflow: "reject",
      logger: silentLogger,
      write: (el) => new Promise<void>((resolve) => {
        written.push(el.attrs.id);
        pending.push(resolve);
      }),
    });
    ob.resume();
    await ob.push(msg(1));
    expect(written).toEqual(["1"]); // no queue round trip
    await ob.push(msg(2));
    await ob.push(msg(3));
    expect(written).toEqual(["1"]); // 1 still being written: the others wait their turn
    expect(ob.depth).toBe(3);
    pending.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(written).toEqual(["1", "2"]);
    pending.shift()!();
    await new Promise((r) => setImmediate(r));
    pending.shift()!();
    expect(await ob.drain(1000)).toBe(true);
    expect(written).toEqual(["1", "2", "3"]);
  });
  it("a failed direct write pauses the outbox and keeps the stanza ahead of later ones", async () => {
    const written: string[] = [];
    let fail = true;
    const ob = new Outbox({
      limit: 10,
      overflow: "reject",
      logger: silentLogger,
      write: async (el) => {
        if (fail) throw new Error("socket gone");
        written.push(el.attrs.id);
      },
    });
    ob.resume();
    await ob.push(msg(1));
    await new Promise((r) => setImmediate(r));
    await ob.push(msg(2));
    expect(ob.depth).toBe(2);
    expect(await ob.drain(50)).toBe(false);
    fail = false;
    ob.resume();
    expect(await ob.drain(1000)).toBe(true);
    expect(written).toEqual(["1", "2"]);
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
