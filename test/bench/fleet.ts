// Fleet benchmark (printed, not pass/fail): N password accounts on real Prosody shared by W real
// `botrun fleet echo` workers through a real redis-server. Cold start (time to all answering, login
// rate), steady-state Redis commands/s and RSS per account; with W > 1 also a worker joining (accounts
// moved, and whether any other account reconnected) and failover after kill -9 (p50/p99 per account).
// Sizes: BENCH_FLEET_ACCOUNTS (default 200), BENCH_FLEET_WORKERS (default 4), BENCH_FLEET_LOGIN_RATE
// (fleet-wide logins/s, default 100), BENCH_FLEET_TTL (lease TTL in seconds, default 8 as in production). Accounts are written into Prosody's storage as files (a
// plaintext password Prosody hashes at first login) instead of ~90 ms of prosodyctl each.
//   node --conditions=@botrun/source --import tsx test/bench/fleet.ts       # 200 accounts, 4 workers
//   BENCH_FLEET_ACCOUNTS=2000 node --conditions=@botrun/source --import tsx test/bench/fleet.ts
//   BENCH_FLEET_ACCOUNTS=10000 BENCH_FLEET_WORKERS=1 node --conditions=@botrun/source --import tsx test/bench/fleet.ts
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { closeRedis, connectRedis, ownerOf } from "@botrun/fleet";
import { startProsody } from "../env/prosody.ts";
import { startRedis } from "../env/redis.ts";
import { AccountProbe, fleetEnv, leaseOwners, spawnFleetWorker, startFleetPeer, writeProsodyAccounts, type WorkerProcess } from "../env/fleet.ts";
import { spawnBotrun, waitUntil } from "../soak/botrun-process.ts";
import { pct } from "./stats.ts";

const N = Number(process.env.BENCH_FLEET_ACCOUNTS ?? 200);
const W = Number(process.env.BENCH_FLEET_WORKERS ?? 4);
const RATE = Number(process.env.BENCH_FLEET_LOGIN_RATE ?? 100);
const TTL_S = Number(process.env.BENCH_FLEET_TTL ?? 8);
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const bound = Math.max(300_000, N * 150, (N / RATE) * 4000); // generous limits for large runs on a busy machine

const redis = await startRedis();
const prosody = await startProsody({ logLevel: "warn" });
const dir = mkdtempSync(path.join(tmpdir(), "fleet-bench-"));
const workers = new Map<string, WorkerProcess>();
const r = connectRedis(redis.url);
try {
  const users = Array.from({ length: N }, (_, i) => `fb${i}`);
  const t0 = Date.now();
  await writeProsodyAccounts(prosody, users.map((u) => [u, `pw-${u}`]));
  console.log(`${N} accounts written to Prosody's storage in ${s(Date.now() - t0)}`);
  const jids = users.map((u) => `${u}@localhost`);
  writeFileSync(path.join(dir, "a.jsonl"), users.map((u) => JSON.stringify({ jid: `${u}@localhost`, password: `pw-${u}` })).join("\n"));
  const env = {
    ...fleetEnv({ prosody, redisUrl: redis.url, secret: "fleet-bench-secret-0123456789", ttlS: TTL_S }),
    BOTRUN_FLEET_LOGIN_RATE: String(RATE),
    BOTRUN_LOG_LEVEL: "warn",
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --max-old-space-size=8192`.trim(),
  };
  const imp = spawnBotrun(["accounts", "import", "echo", path.join(dir, "a.jsonl")], env);
  if ((await imp.exited) !== 0) throw new Error(imp.output());
  const peer = await startFleetPeer(prosody);
  const probe = new AccountProbe(peer, "b");
  const owners = () => leaseOwners(r, "echo", jids);
  const generations = async () => r.mget(...jids.map((j) => `botrun:fleet:echo:gen:{${j}}`));
  const settled = async (ids: string[]) => [...(await owners())].every(([j, w]) => w === ownerOf(j, ids));
  const logs = () => [...workers.values()].map((w) => `--- ${w.id}\n${w.output().slice(-2000)}`).join("\n");

  // The baseline: a worker of an empty fleet (another Redis database), to subtract from RSS.
  const idle = spawnFleetWorker("echo", "idle", { ...env, BOTRUN_LOG_LEVEL: "info", BOTRUN_FLEET_REDIS: redis.url.replace(/\/0$/, "/1") });
  await waitUntil(() => /worker joined the fleet/.test(idle.output()) || idle.child.exitCode !== null, 60_000, () => idle.output(), 200);
  await new Promise((res) => setTimeout(res, 3000)); // let it settle into its rounds
  const baseline = rssMb(idle.child.pid!);
  await idle.stop();

  // Cold start: W workers at once.
  const ids = Array.from({ length: W }, (_, i) => `w${i + 1}`);
  const c0 = Date.now();
  for (const id of ids) workers.set(id, spawnFleetWorker("echo", id, env));
  await waitUntil(() => settled(ids), bound, () => `cold start\n${logs()}`, 500);
  const leased = Date.now() - c0;
  await probe.answerAll(jids, bound, 10_000);
  const cold = Date.now() - c0;
  console.log(`cold start of ${N} accounts over ${W} worker(s): all leased after ${s(leased)}, all answering after ${s(cold)} (${(N / (cold / 1000)).toFixed(0)} accounts/s, process start included; login limit ${RATE}/s)`);

  // Steady state: Redis commands per second, memory per account.
  // Commands counted by Redis include those run inside scripts (a batch renewal of 300 leases is 601).
  const ops = async () => {
    const stats = await r.info("stats");
    const cmds = await r.info("commandstats");
    const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(cmds)?.[1] ?? 0);
    return { all: Number(/total_commands_processed:(\d+)/.exec(stats)?.[1]), scripts: calls("eval") + calls("evalsha") };
  };
  const o0 = await ops();
  const s0 = Date.now();
  await new Promise((res) => setTimeout(res, 10_000)); // the measurement window itself
  const o1 = await ops();
  const secs = (Date.now() - s0) / 1000;
  console.log(`steady state: ${((o1.all - o0.all - 2) / secs).toFixed(0)} Redis commands/s (${((o1.scripts - o0.scripts) / secs).toFixed(1)} script calls/s) for ${N} accounts and ${W} worker(s) (lease TTL ${TTL_S} s, rounds every TTL/4)`);
  const counts = new Map<string, number>();
  for (const w of (await owners()).values()) counts.set(w!, (counts.get(w!) ?? 0) + 1);
  let rssAll = 0;
  for (const [id, w] of workers) {
    const rss = rssMb(w.child.pid!);
    rssAll += rss;
    const n = counts.get(id) ?? 0;
    console.log(`  ${id}: ${n} accounts, RSS ${rss.toFixed(0)} MB (${(rss / Math.max(1, n)).toFixed(3)} MB per account, ${((rss - baseline) / Math.max(1, n)).toFixed(3)} MB above an idle worker)`);
  }
  console.log(`memory: ${(rssAll / N).toFixed(3)} MB RSS per account over all workers; ${((rssAll - W * baseline) / N).toFixed(3)} MB per account above the idle worker's ${baseline.toFixed(0)} MB`);

  if (W > 1) {
    // A worker joins: how many accounts move, only to it, and does any other account reconnect?
    const before = await owners();
    const genBefore = await generations();
    const joiner = `w${W + 1}`;
    workers.set(joiner, spawnFleetWorker("echo", joiner, env));
    const all = [...ids, joiner];
    await waitUntil(() => settled(all), bound, () => `join\n${logs()}`, 500);
    const after = await owners();
    const genAfter = await generations();
    const moved = jids.filter((j) => before.get(j) !== after.get(j));
    const reconnected = jids.filter((j, i) => before.get(j) === after.get(j) && genBefore[i] !== genAfter[i]);
    console.log(`worker ${W + 1} joins: ${moved.length} of ${N} accounts moved (target about ${Math.round(N / (W + 1))}), ${moved.filter((j) => after.get(j) === joiner).length} of them to the newcomer; ${reconnected.length} accounts that stayed got a new lease`);
    await probe.answerAll(jids, bound, 5000);

    // Failover: kill -9 of one worker; every account it held answers again (probed every second).
    const victim = "w1";
    const theirs = [...after].filter(([, w]) => w === victim).map(([j]) => j);
    workers.get(victim)!.child.kill("SIGKILL");
    await workers.get(victim)!.exited;
    workers.delete(victim);
    const times = [...(await probe.answerAll(theirs, bound, 1000)).values()];
    console.log(`failover after kill -9 (${theirs.length} accounts, lease TTL ${TTL_S} s): p50 ${s(pct(times, 50))}, p99 ${s(pct(times, 99))}, max ${s(Math.max(...times))}`);
  }
  console.log(`duplicate answers over the run: ${probe.duplicates().length}`);
  await peer.stop();
} finally {
  // BENCH_FLEET_LOG=<file>: every live worker's output, for a run that went wrong.
  if (process.env.BENCH_FLEET_LOG) writeFileSync(process.env.BENCH_FLEET_LOG, [...workers.values()].map((w) => `--- ${w.id}\n${w.output()}`).join("\n"));
  await Promise.all([...workers.values()].map((w) => w.stop(30_000)));
  await closeRedis(r);
  await prosody.stop();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
