// A fleet of real `botrun fleet echo` processes sharing six accounts (four OAuth with strict rotation
// and 8 s access tokens, two with passwords) through a real redis-server, on real Prosody: every
// account answers exactly once; kill -9 of a worker: its accounts answer again within 30 s; kill
// -STOP for twice the lease TTL, then -CONT: the woken worker drops its sessions without kicking the
// new owner; SIGTERM hands every account off at once and exits 0; no refresh token used twice.
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeRedis, connectRedis, ownerOf, SecretBox, type AccountInfo, type FleetRedis } from "@botrun/fleet";
import { startOAuthServer, type OAuthServerHandle } from "../env/oauth-server.ts";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { pidAlive } from "../env/proc.ts";
import { startRedis, type RedisServer } from "../env/redis.ts";
import { startOAuthGate, type OAuthGate } from "../env/fleet-oauth-gate.ts";
import { AccountProbe, fleetEnv, leaseOwners, spawnFleetWorker, type WorkerProcess } from "../env/fleet.ts";
import { startRawClient, type RawClient } from "./helpers/raw-client.ts";
import { spawnBotrun, waitUntil } from "../soak/botrun-process.ts";

const TTL_S = 3;
const OAUTH = ["fa0", "fa1", "fa2", "fa3"];
const PASSWORD = ["fp0", "fp1"];
const JIDS = [...OAUTH, ...PASSWORD].map((u) => `${u}@localhost`);
const SECRET = "fleet-test-secret-0123456789abcdef";

let redis: RedisServer;
let oauth: OAuthServerHandle;
let gate: OAuthGate;
let prosody: ProsodyHandle;
let peer: RawClient;
let probe: AccountProbe;
let r: FleetRedis;
let dir: string;
const workers = new Map<string, WorkerProcess>();
/** Every worker ever started (killed and stopped ones included), for checks over all output. */
const everStarted: WorkerProcess[] = [];
const pids: number[] = [];
const refreshTokens: string[] = [];

const env = () => fleetEnv({ prosody, redisUrl: redis.url, secret: SECRET, ttlS: TTL_S, oauth: { ...oauth, tokenUrl: gate.tokenUrl } });

const start = (id: string) => {
  const w = spawnFleetWorker("echo", id, env());
  workers.set(id, w);
  everStarted.push(w);
  pids.push(w.child.pid!);
  return w;
};
const owners = () => leaseOwners(r, "echo", JIDS);
const ownedBy = async (id: string) => [...(await owners())].filter(([, w]) => w === id).map(([j]) => j);
/** The running workers' last output, for failure messages. */
const logs = () => [...workers.values()].map((w) => `--- ${w.id}\n${w.output().slice(-3000)}`).join("\n");
/** Every worker's whole output, for assertions (a tail can miss the line looked for). */
const allOutput = () => everStarted.map((w) => w.output()).join("\n");

async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  const p = spawnBotrun(args, env());
  pids.push(p.child.pid!);
  const code = await p.exited;
  return { code, out: p.output() };
}

beforeAll(async () => {
  [redis, oauth] = await Promise.all([startRedis(), startOAuthServer({ accessTtl: 8 })]);
  gate = await startOAuthGate(oauth.tokenUrl);
  prosody = await startProsody({ oauth: { introspectionUrl: oauth.introspectionUrl, clientId: oauth.introspectionClientId, clientSecret: oauth.introspectionClientSecret } });
  pids.push(prosody.pid, redis.pid);
  for (const u of [...OAUTH, ...PASSWORD]) await prosody.register(u, `${u}-pw`);
  await prosody.register("peer", "peer-pw");
  const lines: string[] = [];
  for (const u of OAUTH) {
    const t = await oauth.issueTokens(u, { accessTtl: 8 });
    refreshTokens.push(t.refreshToken);
    lines.push(JSON.stringify({ jid: `${u}@localhost`, refreshToken: t.refreshToken }));
  }
  for (const u of PASSWORD) lines.push(JSON.stringify({ jid: `${u}@localhost`, password: `${u}-pw` }));
  dir = mkdtempSync(path.join(tmpdir(), "fleet-"));
  writeFileSync(path.join(dir, "accounts.jsonl"), lines.join("\n") + "\n", { mode: 0o600 });
  r = connectRedis(redis.url);
  peer = await startRawClient({ host: "127.0.0.1", directTlsPort: prosody.directTlsPort, domain: "localhost", username: "peer", password: "peer-pw", caFile: prosody.caFile, resource: "probe" });
  probe = new AccountProbe(peer, "p");
});

afterAll(async () => {
  await Promise.all([...workers.values()].map((w) => (w.child.signalCode === "SIGSTOP" ? undefined : w.stop(5000))));
  for (const w of workers.values()) if (pidAlive(w.child.pid)) w.child.kill("SIGKILL");
  await peer?.stop();
  if (r) await closeRedis(r);
  await Promise.all([prosody?.stop(), gate?.stop(), oauth?.stop(), redis?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const pid of pids) expect(pidAlive(pid), `process ${pid} left behind`).toBe(false);
});

describe("botrun fleet: workers on Redis", () => {
  it("imports accounts (credentials sealed in Redis) and brings each online exactly once across three workers", async () => {
    const imported = await cli(["accounts", "import", "echo", path.join(dir, "accounts.jsonl")]);
    expect(imported).toMatchObject({ code: 0, out: "imported 6 accounts\n" });
    const dump = JSON.stringify(await Promise.all(JIDS.map((j) => r.hgetall(`botrun:fleet:echo:acct:{${j}}`))));
    for (const secret of [...refreshTokens, "fp0-pw", "fp1-pw"]) expect(dump).not.toContain(secret);
    const ids = ["w1", "w2", "w3"];
    for (const id of ids) start(id);
    // Settled: every account held by its rendezvous owner among the three.
    await waitUntil(async () => [...(await owners())].every(([j, w]) => w === ownerOf(j, ids)), 40_000, logs);
    await probe.answerAll(JIDS, 40_000).catch((e: Error) => Promise.reject(new Error(`${e.message}\n${logs()}`)));
    expect(new Set((await owners()).values()).size).toBeGreaterThanOrEqual(2);
  });

  it("kill -9 of a worker: all its accounts answer again within 30 s", async () => {
    const counts = new Map<string, number>();
    for (const w of (await owners()).values()) counts.set(w!, (counts.get(w!) ?? 0) + 1);
    const victim = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const theirs = await ownedBy(victim);
    // Killed with no refresh of its at the OAuth server and none answered but not yet stored (a
    // refresh token the server rotated for a worker that dies before storing it is lost with it):
    // refreshes queue at the gate; once every in-flight mark of its accounts is a queued one, kill.
    gate.pause();
    const marks = async () => Promise.all(theirs.map((j) => r.hget(`botrun:fleet:echo:acct:{${j}}`, "spend")));
    await waitUntil(async () => gate.inFlight === 0 && (await marks()).every((m) => m === null || gate.queued().has(m.split("|")[1]!)), 20_000, logs);
    workers.get(victim)!.child.kill("SIGKILL");
    await workers.get(victim)!.exited;
    gate.resume({ drop: true }); // its queued refreshes never reach the server; the new owner sends those tokens at once
    const times = await probe.answerAll(theirs, 30_000);
    const after = await owners();
    for (const j of theirs) expect(after.get(j)).not.toBe(victim);
    console.log(`failover after kill -9 of ${victim}: ${theirs.length} accounts, answered after ${[...times.values()].join(", ")} ms`);
    workers.delete(victim);
  });

  it("kill -STOP for twice the lease TTL, then -CONT: the woken worker drops its sessions and does not kick the new owner", async () => {
    const [a, b] = [...workers.keys()] as [string, string];
    const sleeperId = (await ownedBy(a)).length >= (await ownedBy(b)).length ? a : b;
    const otherId = sleeperId === a ? b : a;
    const sleeper = workers.get(sleeperId)!;
    const theirs = await ownedBy(sleeperId);
    expect(theirs.length).toBeGreaterThan(0);
    const stoppedAt = Date.now();
    sleeper.child.kill("SIGSTOP");
    try {
      await waitUntil(async () => (await ownedBy(otherId)).length === JIDS.length, 20_000, logs);
      await probe.answerAll(theirs, 20_000);
      // The scenario itself: the worker stays stopped for at least twice the lease TTL.
      await waitUntil(() => Date.now() - stoppedAt >= 2 * TTL_S * 1000, 10_000, () => "clock");
    } finally {
      sleeper.child.kill("SIGCONT");
    }
    // Dropped by self-fencing, by a lost lease, or (if the kick is read first) stopped on the conflict without a reconnect.
    const dropped = (j: string) => new RegExp(`"account":"${j}"[^\\n]*"(account dropped|session replaced by another login[^"]*)"`).test(sleeper.output());
    await waitUntil(() => theirs.every(dropped), 15_000, () => sleeper.output().slice(-3000));
    await probe.answerAll(JIDS, 30_000);
    expect(workers.get(otherId)!.output()).not.toMatch(/session replaced by another login/);
    const why = [...sleeper.output().matchAll(/"why":"([^"]+)"/g)].map((m) => m[1]);
    console.log(`woken worker ${sleeperId} dropped ${theirs.length} accounts: ${[...new Set(why)].join("; ")}`);
  });

  it("SIGTERM hands every account off at once and exits 0; nothing answered twice, no refresh token used twice", async () => {
    const [first, second] = [...workers.keys()] as [string, string];
    const leaving = (await ownedBy(first)).length ? first : second;
    const staying = leaving === first ? second : first;
    const w = workers.get(leaving)!;
    const t0 = Date.now();
    expect(await w.stop(10_000)).toBe(0);
    workers.delete(leaving);
    await waitUntil(async () => (await ownedBy(staying)).length === JIDS.length, TTL_S * 1000, logs);
    console.log(`SIGTERM hand-off: all ${JIDS.length} accounts owned by ${staying} ${Date.now() - t0} ms after the signal`);
    await probe.answerAll(JIDS, 30_000);
    expect(probe.duplicates()).toEqual([]);
    const listed = await cli(["accounts", "list", "echo", "--json"]);
    expect(listed.code).toBe(0);
    const list = JSON.parse(listed.out) as AccountInfo[];
    expect(list.map((a) => [a.jid, a.state, a.owner])).toEqual(JIDS.slice().sort().map((j) => [j, "ready", staying]));
    for (const a of list.filter((x) => x.kind === "oauth")) expect(a.lastRefresh).toBeGreaterThan(0);
    expect(allOutput()).not.toMatch(/invalid_grant|needs consent/);
    // no credential in any worker's output: imported ones, or the current tokens
    const box = new SecretBox(SECRET);
    const current = await Promise.all(OAUTH.map(async (u) => JSON.parse(box.open((await r.hget(`botrun:fleet:echo:acct:{${u}@localhost}`, "tok"))!, `${u}@localhost#tok`)) as { refreshToken: string; accessToken?: string }));
    const everything = allOutput();
    expect(everStarted).toHaveLength(3);
    for (const secret of [...refreshTokens, ...PASSWORD.map((u) => `${u}-pw`), ...current.flatMap((t) => [t.refreshToken, t.accessToken ?? "-"])]) expect(everything).not.toContain(secret);
    expect(gate.stats).toMatchObject({ reuses: 0, invalidGrants: 0 });
    console.log(`refreshes over the run: ${gate.stats.refreshes}, each with a new refresh token (0 reuses)`);
  });

  it("invalid_grant with no newer token stored: that account needs consent and stops; the others keep answering", async () => {
    const victim = "fa0@localhost";
    const key = `botrun:fleet:echo:acct:{${victim}}`;
    const current = JSON.parse(new SecretBox(SECRET).open((await r.hget(key, "tok"))!, `${victim}#tok`)) as { refreshToken: string };
    await oauth.revoke(current.refreshToken); // consent withdrawn at the OAuth server
    // Its session ends when its access token expires (8 s); the refresh then gets invalid_grant.
    await waitUntil(async () => (await r.hget(key, "state")) === "consent", 30_000, logs);
    await waitUntil(async () => (await owners()).get(victim) === undefined, 5000, logs);
    expect(await r.smembers("botrun:fleet:echo:consent")).toEqual([victim]); // no worker takes it again
    const others = JIDS.filter((j) => j !== victim);
    await probe.answerAll(others, 20_000);
    const list = JSON.parse((await cli(["accounts", "list", "echo", "--json"])).out) as AccountInfo[];
    expect(list.filter((a) => a.state !== "ready").map((a) => [a.jid, a.state, a.reason])).toEqual([[victim, "consent", "consent revoked or expired: import a new refresh token"]]);
    const grantLines = allOutput().split("\n").filter((l) => /invalid_grant/.test(l));
    expect(grantLines.length).toBeGreaterThan(0);
    expect(grantLines.every((l) => l.includes(victim))).toBe(true);
    expect(probe.duplicates()).toEqual([]);
  });
});
