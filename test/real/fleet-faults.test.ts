// Fleet faults on real parts: one worker's link to Redis black-holed by a TCP proxy (it self-fences
// before its leases expire, the other takes over without a conflict, and it rejoins after the link
// heals), and a Redis restart (durable, same port): no double sessions, no lost accounts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeRedis, connectRedis, ownerOf, type FleetRedis } from "@botrun/fleet";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { freePort, pidAlive } from "../env/proc.ts";
import { startProxy, type ProxyHandle } from "../env/tcp-proxy.ts";
import { AccountProbe, fleetEnv, leaseOwners, spawnFleetWorker, type WorkerProcess } from "../env/fleet.ts";
import { startDurableRedis, type DurableRedis } from "../env/fleet-redis.ts";
import { startRawClient, type RawClient } from "./helpers/raw-client.ts";
import { spawnBotrun, waitUntil } from "../soak/botrun-process.ts";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const IDS = ["wa", "wb"] as const;
const SECRET = "fleet-faults-secret-0123456789";
/** Four accounts, two for each worker by rendezvous (so the black-holed one has some to give up). */
const JIDS = (() => {
  const out: string[] = [];
  const per = new Map<string, number>();
  for (let i = 0; out.length < 4; i++) {
    const j = `ff${i}@localhost`;
    const w = ownerOf(j, [...IDS])!;
    if ((per.get(w) ?? 0) < 2) {
      per.set(w, (per.get(w) ?? 0) + 1);
      out.push(j);
    }
  }
  return out;
})();
const settled = async () => [...(await owners())].every(([j, w]) => w === ownerOf(j, [...IDS]));

let redis: DurableRedis;
let prosody: ProsodyHandle;
let proxy: ProxyHandle;
let peer: RawClient;
let probe: AccountProbe;
let r: FleetRedis;
let dir: string;
let httpPort: number;
const workers = new Map<string, WorkerProcess>();
const pids: number[] = [];
const owners = () => leaseOwners(r, "echo", JIDS);
const logs = () => [...workers.values()].map((w) => `--- ${w.id}\n${w.output().slice(-3000)}`).join("\n");
const replaced = /session replaced by another login/;

beforeAll(async () => {
  [redis, prosody] = await Promise.all([startDurableRedis(), startProsody()]);
  pids.push(prosody.pid, redis.pid()!);
  proxy = await startProxy("127.0.0.1", redis.port);
  for (const j of JIDS) await prosody.register(j.split("@")[0]!, "pw-" + j);
  await prosody.register("peer", "peer-pw");
  dir = mkdtempSync(path.join(tmpdir(), "fleet-faults-"));
  writeFileSync(path.join(dir, "a.jsonl"), JIDS.map((j) => JSON.stringify({ jid: j, password: "pw-" + j })).join("\n"));
  const env = (redisUrl: string) => fleetEnv({ prosody, redisUrl, secret: SECRET, ttlS: 3 });
  const imp = spawnBotrun(["accounts", "import", "echo", path.join(dir, "a.jsonl")], env(redis.url));
  pids.push(imp.child.pid!);
  expect(await imp.exited).toBe(0);
  r = connectRedis(redis.url);
  r.on("error", () => undefined);
  peer = await startRawClient({ host: "127.0.0.1", directTlsPort: prosody.directTlsPort, domain: "localhost", username: "peer", password: "peer-pw", caFile: prosody.caFile, resource: "probe" });
  probe = new AccountProbe(peer, "f");
  httpPort = await freePort();
  for (const [id, url] of [["wa", `redis://127.0.0.1:${proxy.port}/0`], ["wb", redis.url]] as const) {
    const w = spawnFleetWorker("echo", id, { ...env(url), ...(id === "wb" && { BOTRUN_HTTP_PORT: String(httpPort) }) });
    workers.set(id, w);
    pids.push(w.child.pid!);
  }
  await waitUntil(settled, 40_000, logs);
  await probe.answerAll(JIDS, 30_000);
});

afterAll(async () => {
  proxy?.blackhole(false);
  const codes = await Promise.all([...workers.values()].map((w) => w.stop(8000)));
  await peer?.stop();
  if (r) await closeRedis(r);
  await proxy?.stop();
  await Promise.all([prosody?.stop(), redis?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const pid of pids) expect(pidAlive(pid), `process ${pid} left behind`).toBe(false);
  expect(codes).toEqual([0, 0]);
});

describe("fleet faults", () => {
  it("a black-holed link to Redis: the worker self-fences, the other takes over without a conflict; after the link heals it rejoins", async () => {
    const wa = workers.get("wa")!;
    const wb = workers.get("wb")!;
    const theirs = [...(await owners())].filter(([, w]) => w === "wa").map(([j]) => j);
    expect(theirs.length).toBe(2);
    proxy.blackhole(true);
    try {
      await waitUntil(async () => [...(await owners()).values()].every((w) => w === "wb"), 20_000, logs);
      expect(theirs.every((j) => new RegExp(`self-fenced[^\\n]*"account":"${j}"|"account":"${j}"[^\\n]*self-fenced`).test(wa.output()))).toBe(true);
      await probe.answerAll(JIDS, 20_000);
    } finally {
      proxy.blackhole(false);
    }
    await waitUntil(settled, 30_000, logs);
    await probe.answerAll(JIDS, 20_000);
    expect(wa.output()).not.toMatch(replaced);
    expect(wb.output()).not.toMatch(replaced);
    expect(probe.duplicates()).toEqual([]);
  });

  it("a Redis restart: no double sessions, no lost accounts", async () => {
    const before = await owners();
    await redis.restart();
    pids.push(redis.pid()!);
    await waitUntil(() => [...workers.values()].every((w) => /redis restarted/.test(w.output())), 20_000, logs);
    await waitUntil(settled, 20_000, logs);
    await probe.answerAll(JIDS, 20_000);
    const after = await owners();
    const moved = JIDS.filter((j) => before.get(j) !== after.get(j)).length;
    console.log(`redis restart: ${moved} of ${JIDS.length} accounts moved`);
    expect(probe.duplicates()).toEqual([]);
    for (const w of workers.values()) expect(w.output()).not.toMatch(replaced);
  });

  it("--http-port: /readyz and /metrics with accounts owned, renewal latency, takeovers and hand-offs", async () => {
    const base = `http://127.0.0.1:${httpPort}`;
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{worker="wb"\\} (\\S+)$`, "m").exec(text)?.[1]);
    const mine = [...(await owners())].filter(([, w]) => w === "wb").length;
    expect(value("botrun_fleet_accounts_owned")).toBe(mine);
    expect(value("botrun_fleet_takeovers_total")).toBeGreaterThanOrEqual(4); // its own two, and wa's two during the black hole
    expect(value("botrun_fleet_handoffs_total")).toBeGreaterThanOrEqual(2); // wa's two given back
    expect(value("botrun_fleet_lease_renewal_seconds")).toBeGreaterThan(0);
    expect(value("botrun_fleet_handled_total")).toBeGreaterThan(0);
    expect(value("botrun_fleet_conflicts_total")).toBe(0);
    expect(text).toMatch(/# TYPE botrun_fleet_takeovers_total counter/);
  });

  it("botrun accounts remove: the owner hands the account off at its next round; the others keep answering", async () => {
    const gone = JIDS[0]!;
    const rm = spawnBotrun(["accounts", "remove", "echo", gone], { BOTRUN_FLEET_REDIS: redis.url, BOTRUN_FLEET_SECRET: SECRET });
    pids.push(rm.child.pid!);
    expect(await rm.exited).toBe(0);
    expect(rm.output()).toBe(`removed ${gone}\n`);
    await waitUntil(async () => (await owners()).get(gone) === undefined, 10_000, logs);
    await probe.answerAll(JIDS.slice(1), 20_000);
    expect(probe.duplicates()).toEqual([]);
  });

  it("a worker with another BOTRUN_FLEET_SECRET stops at once (one line naming it, exit 2) and takes no account", async () => {
    const w = spawnFleetWorker("echo", "wrong", { ...fleetEnv({ prosody, redisUrl: redis.url, secret: "not-the-secret-of-these-accounts", ttlS: 3 }) });
    pids.push(w.child.pid!);
    expect(await w.exited).toBe(2);
    expect(w.output()).toMatch(/^botrun: BOTRUN_FLEET_SECRET: expected the secret the accounts were imported with/m);
    expect([...(await owners()).values()]).not.toContain("wrong");
  });
});
