// The in-flight mark of a refresh token on a real redis-server, with the fleet's SingleFlightEndpoint
// sending through its SpendGate to a rotating token endpoint over real HTTP (strict: a refresh token
// presented twice is refused and counted): siblings wait and adopt; a request the gate refuses sends
// nothing and frees the token; an unanswered one keeps the mark until it is abandoned (the residual
// case of a holder killed mid-request), and only then is the token sent again.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OAuth2TokenEndpoint } from "@botrun/core";
import { AccountStore, closeRedis, connectRedis, fingerprint, FleetKeys, FleetTokenStore, newMarkId, SecretBox, SingleFlightEndpoint, SpendGate, type FleetRedis } from "@botrun/fleet";
import { startRedis, type RedisServer } from "../env/redis.ts";

const box = new SecretBox("fleet-spend-secret-0123456789abcdef");
const keys = new FleetKeys("t");
let redis: RedisServer;
let r: FleetRedis;
let server: Server;
let tokenUrl: string;
/** Strict rotation: each refresh token works once. */
const live = new Set<string>();
const seen = new Set<string>();
const counts = { requests: 0, reuses: 0 };
/** How the next requests are answered: at once, after `held` resolves, or never. */
let mode: { kind: "answer" } | { kind: "hold"; until: Promise<void> } | { kind: "silent" } = { kind: "answer" };
const silent: ServerResponse[] = [];

beforeAll(async () => {
  redis = await startRedis();
  r = connectRedis(redis.url);
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      counts.requests++;
      const rt = new URLSearchParams(Buffer.concat(chunks).toString()).get("refresh_token") ?? "";
      if (seen.has(rt)) counts.reuses++;
      seen.add(rt);
      const m = mode;
      if (m.kind === "silent") return void silent.push(res);
      if (m.kind === "hold") await m.until;
      res.setHeader("content-type", "application/json");
      if (!live.delete(rt)) return void res.writeHead(400).end(JSON.stringify({ error: "invalid_grant" }));
      const next = randomBytes(16).toString("hex");
      live.add(next);
      res.end(JSON.stringify({ access_token: randomBytes(16).toString("hex"), refresh_token: next, expires_in: 3600 }));
    });
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});

afterAll(async () => {
  for (const res of silent) res.destroy();
  server?.closeAllConnections();
  await new Promise<void>((res) => server?.close(() => res()));
  if (r) await closeRedis(r);
  await redis?.stop();
});

/** A fresh account with a live refresh token, and `n` workers' endpoints for it. */
async function account(jid: string, n: number, o: { abandonMs?: number; requestTimeoutMs?: number; waitMs?: number; trusted?: () => boolean } = {}) {
  const rt0 = randomBytes(16).toString("hex");
  live.add(rt0);
  await new AccountStore(r, box, "t").import([{ jid, refreshToken: rt0, overrides: {} }]);
  await r.set(keys.lease(jid), "w:e:1");
  const workers = Array.from({ length: n }, () => {
    const gate = new SpendGate();
    const store = new FleetTokenStore(r, keys, box, jid);
    const endpoint = new SingleFlightEndpoint({
      redis: r, keys, jid, store, gate,
      inner: new OAuth2TokenEndpoint({ tokenUrl, clientId: "c", fetch: gate.fetch }),
      lease: () => ({ value: "w:e:1", trusted: o.trusted?.() ?? true }),
      abandonMs: o.abandonMs ?? 60_000, requestTimeoutMs: o.requestTimeoutMs ?? 2000, waitMs: o.waitMs ?? 300,
    });
    return { endpoint, store };
  });
  return { rt0, workers };
}

/**
 * `endpoint` spends `rt0` while the token endpoint holds its answer; resolves once the request has
 * arrived. `answer()` lets the endpoint answer it (and every later request).
 */
async function spendHeld(endpoint: SingleFlightEndpoint, rt0: string) {
  let release!: () => void;
  mode = { kind: "hold", until: new Promise<void>((res) => (release = res)) };
  const before = counts.requests;
  const first = endpoint.refresh(rt0);
  await expect.poll(() => counts.requests).toBe(before + 1);
  const answer = () => {
    mode = { kind: "answer" };
    release();
  };
  return { first, before, answer };
}

describe("the in-flight mark of a refresh token", () => {
  it("a sibling never sends a token whose spend is in flight: it waits, then adopts the rotated one", async () => {
    const { rt0, workers: [a, b] } = await account("s1@x", 2);
    const { first, before, answer } = await spendHeld(a!.endpoint, rt0);
    await expect(b!.endpoint.refresh(rt0)).rejects.toMatchObject({ code: "in_flight" });
    expect(b!.endpoint.stats).toMatchObject({ calls: 0 });
    expect(b!.endpoint.stats.waited).toBeGreaterThan(0);
    answer();
    const got = await first;
    expect(got.refreshToken).not.toBe(rt0);
    expect(await r.hget(keys.account("s1@x"), "spend")).toBeNull(); // cleared by the compare-and-set
    expect((await b!.endpoint.refresh(rt0)).refreshToken).toBe(got.refreshToken); // adopted, not sent
    expect(counts.requests).toBe(before + 1);
    expect(counts.reuses).toBe(0);
  });

  it("a save that moves the record's version during the spend (a sibling saving the token being spent) does not cost the rotated token", async () => {
    const { rt0, workers: [a, b] } = await account("s5@x", 2);
    const { first, answer } = await spendHeld(a!.endpoint, rt0);
    const stored = await b!.store.load(); // what a sibling's provider saves as it adopts: the token being spent
    await b!.store.save("k", stored!);
    answer();
    const got = await first; // before: "the token record was changed by another writer", and the new token lost
    expect(got.refreshToken).not.toBe(rt0);
    expect((await new FleetTokenStore(r, keys, box, "s5@x").load())?.refreshToken).toBe(got.refreshToken);
    expect(await r.hget(keys.account("s5@x"), "spend")).toBeNull();
    expect(counts.reuses).toBe(0);
  });

  it("a request the gate refuses at the last moment (lease no longer trusted) sends nothing and frees the token", async () => {
    let checks = 0;
    const { rt0, workers: [a] } = await account("s2@x", 1, { trusted: () => ++checks < 2 }); // trusted at SPEND, not at the write
    const before = counts.requests;
    await expect(a!.endpoint.refresh(rt0)).rejects.toMatchObject({ code: "not_sent" });
    expect(a!.endpoint.stats).toMatchObject({ calls: 1, refused: 1 });
    expect(counts.requests).toBe(before);
    expect(await r.hget(keys.account("s2@x"), "spend")).toBeNull();
  });

  it("no answer keeps the mark (nobody resends) until it is abandoned; then the next owner sends the token again", async () => {
    const { rt0, workers: [a, b] } = await account("s3@x", 2, { abandonMs: 3000, requestTimeoutMs: 500 });
    mode = { kind: "silent" };
    const before = { ...counts };
    await expect(a!.endpoint.refresh(rt0, { signal: AbortSignal.timeout(500) })).rejects.toMatchObject({ code: "outcome_unknown" });
    expect(await r.hget(keys.account("s3@x"), "spend")).toMatch(/\|/);
    mode = { kind: "answer" };
    await expect(b!.endpoint.refresh(rt0)).rejects.toMatchObject({ code: "in_flight" });
    expect(counts.requests).toBe(before.requests + 1);
    // The holder is gone for good (as after kill -9): after abandonMs the mark is taken over.
    let got;
    for (;;) {
      got = await b!.endpoint.refresh(rt0).catch((e: { code?: string }) => e);
      if ((got as { code?: string }).code !== "in_flight") break;
    }
    expect(b!.endpoint.stats.abandoned).toBe(1);
    expect(counts.requests).toBe(before.requests + 2);
    // The server never answered the first one, so the token was still live: the account goes on.
    expect((got as { refreshToken?: string }).refreshToken).toMatch(/^[0-9a-f]{32}$/);
    expect(counts.reuses).toBe(before.reuses + 1); // the documented residual: sent twice after abandonment
    expect(Number(await r.hget(keys.account("s3@x"), "abandoned"))).toBe(1);
  }, 20_000);

  it("a mark whose holder ran here and whose process is gone is taken over at once; a live or remote holder's is waited for", async () => {
    const ns = newMarkId().split(".")[0]!;
    const gone = spawnSync(process.execPath, ["-e", ""]).pid!; // exited: its pid names no process now
    const parent = process.ppid;
    const parentStart = readFileSync(`/proc/${parent}/stat`, "utf8").split(") ")[1]!.split(" ")[19]!;
    const cases = [
      { holder: `${ns}.${gone}.1.x`, takenOver: true },
      { holder: `${ns}.${parent}.${parentStart}.x`, takenOver: false }, // alive
      { holder: `${ns}.${parent}.1.x`, takenOver: true }, // that pid now names another process
      { holder: `0123456789abcdef.${gone}.1.x`, takenOver: false }, // another machine or container: cannot tell
    ];
    for (const [i, c] of cases.entries()) {
      const jid = `s4-${i}@x`;
      const { rt0, workers: [b] } = await account(jid, 1);
      await r.hset(keys.account(jid), "spend", `${c.holder}|${fingerprint(rt0)}|${Date.now()}`);
      const before = counts.requests;
      const got = await b!.endpoint.refresh(rt0).catch((e: { code?: string }) => e);
      expect({ i, deadHolder: b!.endpoint.stats.deadHolder, sent: counts.requests - before }).toEqual({ i, deadHolder: c.takenOver ? 1 : 0, sent: c.takenOver ? 1 : 0 });
      if (!c.takenOver) expect(got).toMatchObject({ code: "in_flight" });
    }
  });
});
