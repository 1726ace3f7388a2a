// Fleet benchmark (printed, not pass/fail): N password accounts on real Prosody shared by real
// `botrun fleet echo` workers through a real redis-server. Cold start over 4 workers, failover after
// kill -9 (p50/p99 per account), accounts moved when a worker joins, RSS per account, Redis ops/s.
// N defaults to 200 (BENCH_FLEET_ACCOUNTS): the 2,000 needs a faster account registration
// than prosodyctl (about 90 ms per account here).
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { closeRedis, connectRedis, ownerOf } from "@botrun/fleet";
import { startProsody } from "../env/prosody.ts";
import { startRedis } from "../env/redis.ts";
import { AccountProbe, fleetEnv, leaseOwners, spawnFleetWorker, type WorkerProcess } from "../env/fleet.ts";
import { startRawClient } from "../real/helpers/raw-client.ts";
import { spawnBotrun, waitUntil } from "../soak/botrun-process.ts";

const N = Number(process.env.BENCH_FLEET_ACCOUNTS ?? 200);
const TTL_S = 4;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;

const redis = await startRedis();
const prosody = await startProsody();
const dir = mkdtempSync(path.join(tmpdir(), "fleet-bench-"));
const workers = new Map<string, WorkerProcess>();
const r = connectRedis(redis.url);
try {
  const users = Array.from({ length: N }, (_, i) => `fb${i}`);
  const t0 = Date.now();
  for (let i = 0; i < users.length; i += 8) await Promise.all(users.slice(i, i + 8).map((u) => prosody.register(u, `pw-${u}`)));
  await prosody.register("peer", "peer-pw");
  console.log(`registered ${N} accounts in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const jids = users.map((u) => `${u}@localhost`);
  writeFileSync(path.join(dir, "a.jsonl"), users.map((u) => JSON.stringify({ jid: `${u}@localhost`, password: `pw-${u}` })).join("\n"));
  const env = { ...fleetEnv({ prosody, redisUrl: redis.url, secret: "fleet-bench-secret-0123456789", ttlS: TTL_S }), BOTRUN_FLEET_LOGIN_RATE: "100", BOTRUN_LOG_LEVEL: "warn" };
  const imp = spawnBotrun(["accounts", "import", "echo", path.join(dir, "a.jsonl")], env);
  if ((await imp.exited) !== 0) throw new Error(imp.output());
  const peer = await startRawClient({ host: "127.0.0.1", directTlsPort: prosody.directTlsPort, domain: "localhost", username: "peer", password: "peer-pw", caFile: prosody.caFile, resource: "bench" });
  const probe = new AccountProbe(peer, "b");
  const owners = () => leaseOwners(r, "echo", jids);
  const settled = async (ids: string[]) => [...(await owners())].every(([j, w]) => w === ownerOf(j, ids));

  // Cold start: 4 workers at once.
  const ids = ["w1", "w2", "w3", "w4"];
  const c0 = Date.now();
  for (const id of ids) workers.set(id, spawnFleetWorker("echo", id, env));
  await waitUntil(() => settled(ids), 120_000, () => "cold start");
  const owned = Date.now() - c0;
  const answered = await probe.answerAll(jids, 120_000, 5000);
  const coldS = (Date.now() - c0) / 1000;
  console.log(`cold start of ${N} accounts over 4 workers: all leased after ${(owned / 1000).toFixed(1)} s, all answering after ${coldS.toFixed(1)} s (${(N / coldS).toFixed(0)} accounts/s, process start included; login limit 100/s)`);
  void answered;

  // Steady state: Redis operations per second, memory per account.
  const ops = async () => Number(/total_commands_processed:(\d+)/.exec(await r.info("stats"))?.[1]);
  const o0 = await ops();
  const s0 = Date.now();
  await new Promise((res) => setTimeout(res, 5000)); // the measurement window itself
  const opsPerS = ((await ops()) - o0) / ((Date.now() - s0) / 1000);
  console.log(`steady state: ${opsPerS.toFixed(0)} Redis commands/s for ${N} accounts and 4 workers (TTL ${TTL_S} s, rounds every TTL/4)`);
  const counts = new Map<string, number>();
  for (const w of (await owners()).values()) counts.set(w!, (counts.get(w!) ?? 0) + 1);
  for (const [id, w] of workers) {
    const rss = rssMb(w.child.pid!);
    console.log(`  ${id}: ${counts.get(id) ?? 0} accounts, RSS ${rss.toFixed(0)} MB`);
  }

  // Failover: kill -9 of one worker.
  const victim = "w1";
  const theirs = [...(await owners())].filter(([, w]) => w === victim).map(([j]) => j);
  workers.get(victim)!.child.kill("SIGKILL");
  await workers.get(victim)!.exited;
  workers.delete(victim);
  const times = [...(await probe.answerAll(theirs, 60_000, 3000)).values()];
  console.log(`failover after kill -9 (${theirs.length} accounts, TTL ${TTL_S} s): p50 ${(pct(times, 50) / 1000).toFixed(1)} s, p99 ${(pct(times, 99) / 1000).toFixed(1)} s, max ${(Math.max(...times) / 1000).toFixed(1)} s`);

  // A worker joins: how many accounts move, and only to it?
  const live = ["w2", "w3", "w4"];
  await waitUntil(() => settled(live), 60_000, () => "after failover");
  const before = await owners();
  workers.set("w5", spawnFleetWorker("echo", "w5", env));
  await waitUntil(() => settled([...live, "w5"]), 60_000, () => "join");
  const after = await owners();
  const moved = jids.filter((j) => before.get(j) !== after.get(j));
  console.log(`a 4th live worker joins: ${moved.length} of ${N} accounts moved (target about ${Math.round(N / 4)}), ${moved.filter((j) => after.get(j) === "w5").length} of them to the newcomer`);
  await probe.answerAll(jids, 60_000, 5000);
  console.log(`duplicate answers over the run: ${probe.duplicates().length}`);
  await peer.stop();
} finally {
  await Promise.all([...workers.values()].map((w) => w.stop(10_000)));
  await closeRedis(r);
  await prosody.stop();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
