/**
 * Echo benchmark (printed, not a test): `npm run bench`, or `NODE_OPTIONS=--conditions=@botrun/source node_modules/.bin/tsx test/bench/echo.ts`
 * Starts Prosody and measures echo round trips per second (1 and 20 in flight) and p50/p99 latency
 * for the real `botrun echo` process and for a minimal raw @xmpp/client echo bot.
 *
 * Fair by construction: each bot is its own child process under the same loader (`node` + tsx),
 * both log in with SCRAM-SHA-1 over direct TLS with TCP_NODELAY, the peers (@xmpp/client with
 * TCP_NODELAY) live in this process, and the bots are measured in interleaved rounds (the order
 * rotates each round) whose medians are reported, so machine noise hits all of them alike.
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_N1 / BENCH_N20 (round trips per round, default
 * 400 / 2000), BENCH_BASELINE_ROOT (another checkout with node_modules: its `botrun echo` is
 * measured in the same rounds, for before/after figures), BENCH_CPU_PROF (a directory: the raw and
 * botrun processes write V8 CPU profiles to its raw/ and botrun/ on exit), BENCH_GC=1 or a directory (every bot
 * runs with --trace-gc: scavenges, mark-compacts and their pause time per 1000 echoes, counted inside
 * the rounds; a directory also gets each bot's GC lines as gc-<n>.log), BENCH_NODE_ARGS (extra node options
 * for every bot, space-separated), BENCH_RESTART=0 (skip the
 * server-restart figure), BENCH_RAW_ORIGIN_ID=1 (the raw bot's replies carry an id and an origin-id as
 * botrun's do: the same bytes for the server and the peer). Prints medians over rounds and each metric's best round, with the ratios
 * to the raw bot; CPU per echo is the bot process's user + system time over the round's round trips.
 * Start-up is measured by test/bench/startup.ts.
 * Stops everything it started.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startProsody } from "../env/prosody.ts";
import { EchoPeer } from "../real/helpers/echo-peer.ts";
import { startBotrun, type BotrunProcess } from "../real/helpers/botrun-process.ts";
import { cpuMs, median, pct } from "./stats.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const N1 = Number(process.env.BENCH_N1 ?? 400);
const N20 = Number(process.env.BENCH_N20 ?? 2000);
const BASELINE = process.env.BENCH_BASELINE_ROOT;
const CPU_PROF = process.env.BENCH_CPU_PROF;
/** BENCH_GC=1, or a directory where each bot's --trace-gc lines of the rounds are also written (gc-<n>.log). */
const GC = process.env.BENCH_GC !== undefined && process.env.BENCH_GC !== "0";
const GC_DIR = GC && process.env.BENCH_GC !== "1" ? process.env.BENCH_GC : undefined;
/** BENCH_NODE_ARGS: extra `node` options for every bot (space-separated), e.g. an `--import` of a profiling hook. */
const GC_ARGS = [...(GC ? ["--trace-gc"] : []), ...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [])];
const RAW_BOT = fileURLToPath(new URL("../real/helpers/raw-echo-bot.ts", import.meta.url));
/** The raw bot imports xml from @botrun/core: from its sources, as the workspace does. */
const SOURCE_CONDITION = "--conditions=@botrun/source";

interface Result {
  rate1: number;
  p50: number;
  p99: number;
  rate20: number;
  p50_20: number;
  p99_20: number;
  /** CPU (user + system) the bot process used per round trip in this round, µs. */
  cpu: number;
}
/** Per metric: true when higher is better (best-of takes the maximum), false when lower is. */
const HIGHER: Record<keyof Result, boolean> = { rate1: true, p50: false, p99: false, rate20: true, p50_20: false, p99_20: false, cpu: false };
const KEYS = Object.keys(HIGHER) as (keyof Result)[];


/**
 * Run `n` round trips with `window` in flight; returns rate and latencies. Uses the peer's O(1)
 * counters only: the peer shares this process with the others and must not become the bottleneck.
 */
async function run(peer: EchoPeer, n: number, window: number): Promise<{ rate: number; lat: number[] }> {
  const from = peer.latencies.length;
  const start = performance.now();
  const sent = () => peer.sentAt.size;
  const echoed = () => peer.counts.size;
  const target = sent() + n;
  while (sent() < target) {
    while (sent() < target && sent() - echoed() < window) peer.send();
    await peer.waitFor(() => sent() - echoed() < window || sent() >= target, 10_000);
  }
  await peer.waitFor(() => peer.outstanding() === 0, 10_000);
  const secs = (performance.now() - start) / 1000;
  return { rate: n / secs, lat: peer.latencies.slice(from) };
}

async function measure(peer: EchoPeer, pid: number): Promise<Result> {
  await run(peer, 50, 1); // warm-up
  const c0 = cpuMs(pid);
  const one = await run(peer, N1, 1);
  const twenty = await run(peer, N20, 20);
  const cpu = ((cpuMs(pid) - c0) * 1000) / (N1 + N20);
  return {
    rate1: one.rate,
    p50: pct(one.lat, 50),
    p99: pct(one.lat, 99),
    rate20: twenty.rate,
    p50_20: pct(twenty.lat, 50),
    p99_20: pct(twenty.lat, 99),
    cpu,
  };
}

/** Per-metric median over rounds, or (`best`) each metric's best round. */
function summarise(rs: Result[], best = false): Result {
  const pick = (k: keyof Result) => {
    const xs = rs.map((r) => r[k]);
    return best ? (HIGHER[k] ? Math.max(...xs) : Math.min(...xs)) : median(xs);
  };
  return Object.fromEntries(KEYS.map((k) => [k, pick(k)])) as unknown as Result;
}

const fmt = (r: Result) =>
  `1 in flight ${r.rate1.toFixed(0)} rt/s, p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} ms | 20 in flight ${r.rate20.toFixed(0)}/s, p50 ${r.p50_20.toFixed(2)} p99 ${r.p99_20.toFixed(2)} ms | CPU ${r.cpu.toFixed(0)} µs/echo`;
const ratios = (b: Result, raw: Result) =>
  `throughput 1 in flight ${(b.rate1 / raw.rate1).toFixed(2)}x, 20 in flight ${(b.rate20 / raw.rate20).toFixed(2)}x (target >= 1.0); ` +
  `CPU/echo ${(b.cpu / raw.cpu).toFixed(2)}x (target <= 1.0); p99 1 in flight ${(b.p99 / raw.p99).toFixed(2)}x, 20 in flight ${(b.p99_20 / raw.p99_20).toFixed(2)}x (target <= 1.0)`;

interface Subject {
  name: string;
  proc: BotrunProcess;
  peer?: EchoPeer;
  results: Result[];
  /** BENCH_GC: the process's --trace-gc lines written during the rounds. */
  gcLines: string[];
}

/** Scavenges, mark-compacts and GC pause ms per 1000 echoes, from --trace-gc lines ("…: Scavenge 5.1 (6.2) -> 4.3 (7.2) MB, 0.85 / 0.00 ms …"). */
function gcSummary(lines: readonly string[], echoes: number): string {
  let scavenges = 0;
  let marks = 0;
  let pause = 0;
  for (const l of lines) {
    if (/Scavenge/.test(l)) scavenges++;
    else if (/Mark-Compact|Mark-sweep/i.test(l)) marks++;
    else continue;
    pause += Number(/MB, ([\d.]+) \//.exec(l)?.[1] ?? 0);
  }
  const k = 1000 / echoes;
  return `${(scavenges * k).toFixed(2)} scavenges, ${(marks * k).toFixed(3)} mark-compacts, ${(pause * k).toFixed(2)} ms GC pause per 1000 echoes`;
}

const prosody = await startProsody();
const subjects: Subject[] = [];
try {
  const common = { host: "127.0.0.1", directTlsPort: prosody.directTlsPort, domain: "localhost", caFile: prosody.caFile };
  await prosody.register("peer", "bench-peer-pw");
  const botEnv = botEnvFor;
  const online = /"component":"xmpp".*"msg":"online"/;

  await prosody.register("rawbot", "bench-raw-pw");
  const rawProc = startBotrun([], rawEnv("rawbot", "bench-raw-pw"), { script: RAW_BOT, nodeArgs: [SOURCE_CONDITION, ...GC_ARGS, ...(CPU_PROF ? ["--cpu-prof", "--cpu-prof-interval=200", `--cpu-prof-dir=${CPU_PROF}/raw`] : [])] });
  subjects.push({ name: "raw @xmpp/client echo bot", proc: rawProc, results: [], gcLines: [] });
  await rawProc.waitLine(/^online$/, 30_000);

  await prosody.register("bot", "bench-bot-pw");
  const spawnedAt = Date.now();
  const nodeArgs = [...GC_ARGS, ...(CPU_PROF ? ["--cpu-prof", "--cpu-prof-interval=200", `--cpu-prof-dir=${CPU_PROF}/botrun`] : [])];
  const botProc = startBotrun(["echo"], botEnv("bot", "bench-bot-pw"), { nodeArgs });
  const bot: Subject = { name: "botrun echo (this checkout)", proc: botProc, results: [], gcLines: [] };
  subjects.push(bot);
  await botProc.waitLine(online, 30_000);
  const startToOnline = Date.now() - spawnedAt;

  if (BASELINE) {
    await prosody.register("basebot", "bench-base-pw");
    const baseProc = startBotrun(["echo"], botEnv("basebot", "bench-base-pw"), { root: BASELINE, nodeArgs: GC_ARGS });
    subjects.push({ name: `botrun echo (${BASELINE})`, proc: baseProc, results: [], gcLines: [] });
    await baseProc.waitLine(online, 30_000);
  }

  const users: Record<string, string> = { [rawProc.pid]: "rawbot", [botProc.pid]: "bot" };
  for (const [i, s] of subjects.entries()) {
    const jid = `${users[s.proc.pid] ?? "basebot"}@localhost`;
    s.peer = await EchoPeer.start({ ...common, username: "peer", password: "bench-peer-pw", bot: jid, prefix: `p${i}` });
  }

  for (let round = 0; round < ROUNDS; round++) {
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
    for (const s of order) {
      const mark = s.proc.lines.length;
      s.results.push(await measure(s.peer!, s.proc.pid));
      if (GC) s.gcLines.push(...s.proc.lines.slice(mark));
    }
  }

  let backOnline = NaN;
  if (process.env.BENCH_RESTART !== "0") {
    const mark = botProc.lines.length;
    const restartAt = Date.now();
    await prosody.restart();
    await botProc.waitLine(online, 30_000, mark);
    backOnline = Date.now() - restartAt;
  }

  console.log(`server: Prosody ${prosody.c2sPort}/${prosody.directTlsPort}; every bot its own process (node + tsx), SCRAM-SHA-1 over direct TLS, TCP_NODELAY; peers @xmpp/client in the bench process`);
  console.log(`${ROUNDS} interleaved rounds (order rotating) of ${N1} (1 in flight) + ${N20} (20 in flight) round trips per bot`);
  for (const best of [false, true]) {
    console.log(best ? "best round of each metric (least disturbed by other load):" : "medians over rounds:");
    const raw = summarise(subjects[0]!.results, best);
    for (const s of subjects) console.log(`  ${s.name.padEnd(34)}: ${fmt(summarise(s.results, best))}`);
    for (const s of subjects.slice(1)) console.log(`  ratios ${s.name} / raw: ${ratios(summarise(s.results, best), raw)}`);
  }
  console.log("median of the per-round ratios (each round's figures side by side, least sensitive to load that changes between rounds):");
  for (const s of subjects.slice(1)) {
    const per = Object.fromEntries(KEYS.map((k) => [k, median(s.results.map((r, i) => r[k] / subjects[0]!.results[i]![k]))])) as unknown as Result;
    const unit = { rate1: 1, p50: 1, p99: 1, rate20: 1, p50_20: 1, p99_20: 1, cpu: 1 };
    console.log(`  ratios ${s.name} / raw: ${ratios(per, unit)}`);
  }
  if (GC) for (const s of subjects) console.log(`  GC ${s.name.padEnd(31)}: ${gcSummary(s.gcLines, ROUNDS * (N1 + N20))}`);
  if (GC_DIR) for (const [i, s] of subjects.entries()) writeFileSync(join(GC_DIR, `gc-${i}.log`), s.gcLines.join("\n") + "\n");
  console.log(`botrun process start -> online: ${startToOnline} ms (first start); back online after a server restart (kill + start): ${Number.isNaN(backOnline) ? "not measured (BENCH_RESTART=0)" : `${backOnline} ms`}`);
} finally {
  for (const s of subjects) await s.peer?.stop();
  for (const s of subjects) {
    s.proc.child.kill("SIGTERM");
    await Promise.race([s.proc.exited, new Promise((r) => setTimeout(r, 10_000))]);
    await s.proc.stop(1000);
  }
  await prosody.stop();
}

/** The environment of a botrun echo bot logging in as `user` (SCRAM-SHA-1 over direct TLS unless BENCH_STARTTLS=1). */
function botEnvFor(user: string, pw: string): Record<string, string> {
  return {
    XMPP_SERVICE: process.env.BENCH_STARTTLS === "1" ? `xmpp://127.0.0.1:${prosody.c2sPort}` : `xmpps://127.0.0.1:${prosody.directTlsPort}`,
    XMPP_DOMAIN: "localhost",
    XMPP_CA_FILE: prosody.caFile,
    XMPP_MECHANISM: "SCRAM-SHA-1",
    XMPP_USERNAME: user,
    XMPP_PASSWORD: pw,
    XMPP_RECONNECT_BASE_DELAY: "0.1",
    XMPP_RECONNECT_MAX_DELAY: "0.5",
    BOTRUN_LOG_LEVEL: "info",
    NODE_ENV: "production",
  };
}

function rawEnv(user: string, pw: string): Record<string, string> {
  return {
    RAW_HOST: "127.0.0.1",
    RAW_DIRECT_TLS_PORT: String(prosody.directTlsPort),
    RAW_DOMAIN: "localhost",
    RAW_USERNAME: user,
    RAW_PASSWORD: pw,
    RAW_CA_FILE: prosody.caFile,
    ...(process.env.BENCH_RAW_ORIGIN_ID === "1" ? { RAW_ORIGIN_ID: "1" } : {}),
    NODE_ENV: "production",
  };
}
