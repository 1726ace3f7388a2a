/**
 * Echo benchmark (printed, not a test): `npm run bench`, or `NODE_OPTIONS=--conditions=@botrun/source node_modules/.bin/tsx test/bench/echo.ts`
 * Starts Prosody and measures echo round trips per second (1 and 20 in flight), p50/p99 latency and
 * CPU per echo for the real `botrun echo` process and for a minimal raw @xmpp/client echo bot.
 *
 * Fair by construction: each bot is its own child process under the same loader (`node` + tsx),
 * both log in with SCRAM-SHA-1 over direct TLS with TCP_NODELAY, the peers (@xmpp/client with
 * TCP_NODELAY) live in this process, and every bot carries the same probe (reply-probe.mjs).
 * Measured in many short interleaved rounds: in each round every bot gets one block at 1 in flight
 * and one at 20 in flight, the order rotating, so load that drifts over seconds hits all bots alike.
 * The headline figures pool each bot's blocks (throughput = round trips / time, percentiles over
 * all its samples); the medians over rounds, each metric's best round, the median of the per-round
 * ratios and how many rounds botrun won are printed beside them.
 * - CPU per echo: the bot process's CPU time (all threads, /proc schedstat) over its blocks' round trips.
 * - Bot-side latency (the probe): inside the bot, from a socket read to the next write, i.e. what
 *   the bot adds to a round trip; the rest of it is the server, the peer and the kernel.
 *
 * Before the rounds every bot gets BENCH_WARMUP (default 2000) round trips at 20 in flight, unmeasured:
 * the figures are for a warmed-up process, as a bot that runs for days is (the first rounds
 * otherwise carry V8's compilation of the hot path into the pooled p99; start-up is startup.ts's).
 * Environment: BENCH_ROUNDS (default 20), BENCH_N1 / BENCH_N20 (round trips per block, default
 * 100 / 400), BENCH_BASELINE_ROOT (another checkout with node_modules: its `botrun echo` is
 * measured in the same rounds, for before/after figures), BENCH_CPU_PROF (a directory: the raw and
 * botrun processes write V8 CPU profiles to its raw/ and botrun/ on exit), BENCH_GC=1 or a directory (every bot
 * runs with --trace-gc: scavenges, mark-compacts and their pause time per 1000 echoes, counted inside
 * the rounds; a directory also gets each bot's GC lines as gc-<n>.log), BENCH_NODE_ARGS (extra node options
 * for every bot, space-separated), BENCH_RESTART=0 (skip the
 * server-restart figure), BENCH_RAW_ORIGIN_ID (`both`, the default: a second raw bot whose replies
 * carry an id and a XEP-0359 origin-id as botrun's must, the same bytes for the server and the peer,
 * is measured beside the minimal one in the same rounds, and botrun is compared with both; `1`:
 * only that raw bot; `0`: only the minimal one).
 * Start-up is measured by test/bench/startup.ts.
 * Stops everything it started.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startProsody } from "../env/prosody.ts";
import { EchoPeer } from "../real/helpers/echo-peer.ts";
import { startBotrun, type BotrunProcess } from "../real/helpers/botrun-process.ts";
import { cpuPreciseMs, median } from "./stats.ts";
import { figures, fmt, gcSummary, HIGHER, KEYS, ratios, summarise, type Block, type Probe, type Result } from "./echo-figures.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const N1 = Number(process.env.BENCH_N1 ?? 100);
const N20 = Number(process.env.BENCH_N20 ?? 400);
const BASELINE = process.env.BENCH_BASELINE_ROOT;
/** Round trips at 20 in flight each bot gets before the rounds (BENCH_WARMUP): figures are for a warmed-up JIT. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2000);
/** BENCH_RAW_ORIGIN_ID: "both" (default) adds a raw bot with botrun's reply shape beside the minimal one; "1": only that one; "0": only the minimal one. */
const RAW_ORIGIN_ID = process.env.BENCH_RAW_ORIGIN_ID ?? "both";
const SHAPED = "raw echo bot, botrun's reply shape";
const CPU_PROF = process.env.BENCH_CPU_PROF;
/** BENCH_GC=1, or a directory where each bot's --trace-gc lines of the rounds are also written (gc-<n>.log). */
const GC = process.env.BENCH_GC !== undefined && process.env.BENCH_GC !== "0";
const GC_DIR = GC && process.env.BENCH_GC !== "1" ? process.env.BENCH_GC : undefined;
const PROBE_DIR = mkdtempSync(join(tmpdir(), "botrun-bench-probe-"));
const PROBE = fileURLToPath(new URL("./reply-probe.mjs", import.meta.url));
/** Every bot's extra `node` options: the probe, --trace-gc (BENCH_GC), then BENCH_NODE_ARGS (space-separated). */
const BOT_ARGS = ["--import", PROBE, ...(GC ? ["--trace-gc"] : []), ...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [])];
const RAW_BOT = fileURLToPath(new URL("../real/helpers/raw-echo-bot.ts", import.meta.url));
/** The raw bot imports xml from @botrun/core: from its sources, as the workspace does. */
const SOURCE_CONDITION = "--conditions=@botrun/source";


/**
 * Run `n` round trips with `window` in flight. Uses the peer's O(1) counters only: the peer
 * shares this process with the others and must not become the bottleneck.
 */
async function run(peer: EchoPeer, n: number, window: number): Promise<void> {
  const sent = () => peer.sentAt.size;
  const echoed = () => peer.counts.size;
  const target = sent() + n;
  while (sent() < target) {
    while (sent() < target && sent() - echoed() < window) peer.send();
    await peer.waitFor(() => sent() - echoed() < window || sent() >= target, 10_000);
  }
  await peer.waitFor(() => peer.outstanding() === 0, 10_000);
}

/** One measured block, after a few unmeasured round trips that wake the bot from its idle time. */
async function block(peer: EchoPeer, pid: number, n: number, window: number): Promise<Block> {
  await run(peer, 5, 1);
  const from = peer.latencies.length;
  const c0 = cpuPreciseMs(pid);
  const s0 = cpuPreciseMs(prosody.pid);
  const t0 = performance.now();
  const start = performance.timeOrigin + t0;
  await run(peer, n, window);
  const t1 = performance.now();
  return { n, ms: t1 - t0, lat: peer.latencies.slice(from), cpuMs: cpuPreciseMs(pid) - c0, serverMs: cpuPreciseMs(prosody.pid) - s0, start, end: performance.timeOrigin + t1 };
}

interface Subject {
  name: string;
  proc: BotrunProcess;
  /** The bot's account (its peer talks to `<user>@localhost`). */
  user: string;
  peer?: EchoPeer;
  one: Block[];
  twenty: Block[];
  /** BENCH_GC: the process's --trace-gc lines written during the rounds. */
  gcLines: string[];
}

const prosody = await startProsody();
const subjects: Subject[] = [];
try {
  const common = { host: "127.0.0.1", directTlsPort: prosody.directTlsPort, domain: "localhost", caFile: prosody.caFile };
  await prosody.register("peer", "bench-peer-pw");
  const online = /"component":"xmpp".*"msg":"online"/;
  const profile = (dir: string) => (CPU_PROF ? ["--cpu-prof", "--cpu-prof-interval=200", `--cpu-prof-dir=${CPU_PROF}/${dir}`] : []);
  const subject = (name: string, proc: BotrunProcess, user: string): Subject => ({ name, proc, user, one: [], twenty: [], gcLines: [] });
  const startRaw = async (name: string, user: string, originIds: boolean, args: string[]) => {
    await prosody.register(user, "bench-raw-pw");
    const proc = startBotrun([], rawEnv(user, "bench-raw-pw", originIds), { script: RAW_BOT, nodeArgs: [SOURCE_CONDITION, ...BOT_ARGS, ...args] });
    subjects.push(subject(name, proc, user));
    await proc.waitLine(/^online$/, 30_000);
  };

  await startRaw(RAW_ORIGIN_ID === "1" ? SHAPED : "raw @xmpp/client echo bot", "rawbot", RAW_ORIGIN_ID === "1", profile("raw"));

  await prosody.register("bot", "bench-bot-pw");
  const spawnedAt = Date.now();
  const botProc = startBotrun(["echo"], botEnvFor("bot", "bench-bot-pw"), { nodeArgs: [...BOT_ARGS, ...profile("botrun")] });
  subjects.push(subject("botrun echo (this checkout)", botProc, "bot"));
  await botProc.waitLine(online, 30_000);
  const startToOnline = Date.now() - spawnedAt;

  if (BASELINE) {
    await prosody.register("basebot", "bench-base-pw");
    const baseProc = startBotrun(["echo"], botEnvFor("basebot", "bench-base-pw"), { root: BASELINE, nodeArgs: BOT_ARGS });
    subjects.push(subject(`botrun echo (${BASELINE})`, baseProc, "basebot"));
    await baseProc.waitLine(online, 30_000);
  }
  if (RAW_ORIGIN_ID === "both") await startRaw(SHAPED, "rawbot2", true, []);

  for (const [i, s] of subjects.entries()) {
    s.peer = await EchoPeer.start({ ...common, username: "peer", password: "bench-peer-pw", bot: `${s.user}@localhost`, prefix: `p${i}` });
    await run(s.peer, 50, 1); // warm-up
    if (WARMUP) await run(s.peer, WARMUP, 20);
  }

  for (let round = 0; round < ROUNDS; round++) {
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
    for (const [window, n, into] of [[1, N1, "one"], [20, N20, "twenty"]] as const) {
      for (const s of order) {
        const mark = s.proc.lines.length;
        s[into].push(await block(s.peer!, s.proc.pid, n, window));
        if (GC) s.gcLines.push(...s.proc.lines.slice(mark));
      }
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

  for (const s of subjects) await s.peer?.stop();
  const probes = await Promise.all(subjects.map((s) => stopAndReadProbe(s.proc)));
  const pooled = subjects.map((s, i) => figures(s.one, s.twenty, probes[i]!));
  const perRound = subjects.map((s, i) => s.one.map((b, r) => figures([b], [s.twenty[r]!], probes[i]!)));

  console.log(`server: Prosody ${prosody.c2sPort}/${prosody.directTlsPort}; every bot its own process (node + tsx), SCRAM-SHA-1 over direct TLS, TCP_NODELAY; peers @xmpp/client in the bench process`);
  console.log(`${ROUNDS} interleaved rounds (order rotating); per round and bot one block of ${N1} round trips at 1 in flight and one of ${N20} at 20 in flight`);
  console.log(`pooled over all rounds (throughput = round trips / time; percentiles over every sample):`);
  for (const [i, s] of subjects.entries()) console.log(`  ${s.name.padEnd(34)}: ${fmt(pooled[i]!)}`);
  for (const [i, s] of subjects.entries()) if (i > 0) console.log(`  ratios ${s.name} / raw: ${ratios(pooled[i]!, pooled[0]!)}`);
  for (const best of [false, true]) {
    console.log(best ? "best round of each metric (least disturbed by other load):" : "medians over rounds:");
    const raw = summarise(perRound[0]!, best);
    for (const [i, s] of subjects.entries()) console.log(`  ${s.name.padEnd(34)}: ${fmt(summarise(perRound[i]!, best))}`);
    for (const [i, s] of subjects.entries()) if (i > 0) console.log(`  ratios ${s.name} / raw: ${ratios(summarise(perRound[i]!, best), raw)}`);
  }
  console.log("median of the per-round ratios (each round's blocks side by side), and the rounds where botrun did at least as well as raw:");
  /** Subject `i` against subject `base`, round by round: the median of the ratios and the rounds `i` won. */
  const perRoundRatios = (i: number, base: number, label: string): void => {
    const rs = perRound[i]!.map((r, k) => Object.fromEntries(KEYS.map((key) => [key, r[key] / perRound[base]![k]![key]])) as unknown as Result);
    const unit = Object.fromEntries(KEYS.map((k) => [k, 1])) as unknown as Result;
    const won = (k: keyof Result) => `${rs.filter((r) => (HIGHER[k] ? r[k] >= 1 : r[k] <= 1)).length}/${rs.length}`;
    console.log(`  ratios ${subjects[i]!.name} / ${label}: ${ratios(summarise(rs), unit)}`);
    console.log(`  rounds won: throughput 1 in flight ${won("rate1")}, 20 in flight ${won("rate20")}; CPU ${won("cpu")}; bot-side p50 ${won("side50")}`);
  };
  for (const i of subjects.keys()) if (i > 0) perRoundRatios(i, 0, "raw");
  // Like for like: botrun against a raw bot whose replies carry what botrun's must (issue 8's origin-id and id).
  const shaped = subjects.findIndex((s) => s.name === SHAPED);
  const bot = subjects.findIndex((s) => s.proc === botProc);
  if (shaped > 0) {
    console.log(`botrun against the raw bot with botrun's reply shape (the same bytes on the wire):`);
    console.log(`  pooled: ${ratios(pooled[bot]!, pooled[shaped]!)}`);
    perRoundRatios(bot, shaped, "raw, botrun's reply shape");
  }
  if (GC) for (const s of subjects) console.log(`  GC ${s.name.padEnd(31)}: ${gcSummary(s.gcLines, ROUNDS * (N1 + N20 + 10))}`);
  if (GC_DIR) for (const [i, s] of subjects.entries()) writeFileSync(join(GC_DIR, `gc-${i}.log`), s.gcLines.join("\n") + "\n");
  console.log(`botrun process start -> online: ${startToOnline} ms (first start); back online after a server restart (kill + start): ${Number.isNaN(backOnline) ? "not measured (BENCH_RESTART=0)" : `${backOnline} ms`}`);
} finally {
  for (const s of subjects) await s.peer?.stop();
  for (const s of subjects) await stopAndReadProbe(s.proc);
  await prosody.stop();
  rmSync(PROBE_DIR, { recursive: true, force: true });
}

/** Stop a bot (SIGTERM, then SIGKILL after 10 s) and return its probe's samples (written on exit). */
async function stopAndReadProbe(proc: BotrunProcess): Promise<Probe> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    proc.child.kill("SIGTERM");
    await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 10_000))]);
    await proc.stop(1000);
  }
  try {
    return JSON.parse(readFileSync(join(PROBE_DIR, `probe-${proc.pid}.json`), "utf8")) as Probe;
  } catch {
    return { samples: [], acks: [] };
  }
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
    BENCH_PROBE_DIR: PROBE_DIR,
  };
}

function rawEnv(user: string, pw: string, originIds: boolean): Record<string, string> {
  return {
    BENCH_PROBE_DIR: PROBE_DIR,
    RAW_HOST: "127.0.0.1",
    RAW_DIRECT_TLS_PORT: String(prosody.directTlsPort),
    RAW_DOMAIN: "localhost",
    RAW_USERNAME: user,
    RAW_PASSWORD: pw,
    RAW_CA_FILE: prosody.caFile,
    ...(originIds ? { RAW_ORIGIN_ID: "1" } : {}),
    NODE_ENV: "production",
  };
}
