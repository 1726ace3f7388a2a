/**
 * Start-up benchmark (printed, not a test): `node_modules/.bin/tsx test/bench/startup.ts`, or `npm run bench`.
 * Process start → online, side by side in one run against the real Prosody (test/env/prosody.ts
 * with mod_messenger_oauth2 validating tokens at the real OAuth server, test/env/oauth-server.ts):
 * every subject logs in with the same access token (X-MESSENGER-OAUTH2) over direct TLS on loopback.
 *
 * Subjects, in interleaved runs (the order rotates each run, so machine noise hits all alike):
 * - raw: a minimal @xmpp/client script in plain JavaScript under plain `node` (raw-start.mjs), the baseline;
 * - ts warm: `botrun echo` (the TypeScript bot in bots/echo) through the published-style entry
 *   (bin/botrun.mjs running the compiled packages, dist/*.mjs, built here first), its compiled-bot cache warm;
 * - ts cold: the same with the bot's compile cache removed before the run (a first start);
 * - js: the same echo bot as plain JavaScript (echo-bot.mjs: no TypeScript at all), compiled packages;
 * - piped: wall time of `printf 'hi\n' | botrun echo` (terminal chat, no server; start to exit).
 * Prints medians and bests, each as a ratio to the raw baseline of the same run, and the median CPU
 * time each process had used when online (user + system; steadier than wall time on a busy machine).
 * BENCH_START_RUNS (default 9) sets the number of runs. Stops everything it started.
 */
import { execFileSync, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startOAuthServer } from "../env/oauth-server.ts";
import { startProsody } from "../env/prosody.ts";
import { REPO_ROOT, startBotrun, type BotrunProcess } from "../real/helpers/botrun-process.ts";
import { cpuMs, median } from "./stats.ts";

const RUNS = Number(process.env.BENCH_START_RUNS ?? 9);
const RAW_START = fileURLToPath(new URL("./raw-start.mjs", import.meta.url));
const JS_BOT = fileURLToPath(new URL("./echo-bot.mjs", import.meta.url));
/** Where botrun caches the compiled echo bot (removed before each cold run). */
const ECHO_CACHE = `${REPO_ROOT}bots/echo/node_modules/.cache/botrun`;
const ONLINE = /"component":"xmpp".*"msg":"online"/;

const best = (xs: number[]) => Math.min(...xs);

// The compiled packages, as a published install runs them.
execFileSync("npm", ["run", "--silent", "build"], { cwd: `${REPO_ROOT}packages/core`, stdio: ["ignore", "ignore", "inherit"] }); // its own build script: tsc, then the bundle

const oauth = await startOAuthServer();
const prosody = await startProsody({
  oauth: { introspectionUrl: oauth.introspectionUrl, clientId: oauth.introspectionClientId, clientSecret: oauth.introspectionClientSecret },
});
try {
  await prosody.register("startbot", "unused-password");
  // "base64" style: the raw script hands xmpp.js the token's decoding (xmpp.js base64-encodes responses).
  const { accessToken } = await oauth.issueTokens("startbot", { style: "base64", accessTtl: 3600 });
  const botEnv = {
    XMPP_SERVICE: `xmpps://127.0.0.1:${prosody.directTlsPort}`,
    XMPP_DOMAIN: "localhost",
    XMPP_CA_FILE: prosody.caFile,
    XMPP_ACCESS_TOKEN: accessToken,
    BOTRUN_COMPILED: "1",
    BOTRUN_LOG_LEVEL: "info",
    NODE_ENV: "production",
  };
  const rawEnv = {
    RAW_HOST: "127.0.0.1",
    RAW_DIRECT_TLS_PORT: String(prosody.directTlsPort),
    RAW_DOMAIN: "localhost",
    RAW_CA_FILE: prosody.caFile,
    RAW_ACCESS_TOKEN: accessToken,
    NODE_ENV: "production",
  };
  /** CPU ms (user + system) each subject's process had used when it was online: less sensitive to a busy machine than wall time. */
  const cpu: Record<string, number[]> = {};
  /** Spawn, wait for online; the elapsed ms from just before the spawn. */
  const online = async (name: string, start: () => BotrunProcess, line: RegExp): Promise<number> => {
    const t0 = performance.now();
    const p = start();
    try {
      await p.waitLine(line, 30_000);
      const ms = performance.now() - t0;
      (cpu[name] ??= []).push(cpuMs(p.pid));
      return ms;
    } finally {
      await p.stop(5000);
    }
  };
  const subjects: Record<string, () => Promise<number>> = {
    raw: () => online("raw", () => startBotrun([], rawEnv, { nodeArgs: [RAW_START] }), /^online$/),
    "ts warm": () => online("ts warm", () => startBotrun(["echo"], botEnv), ONLINE),
    "ts cold": () => {
      rmSync(ECHO_CACHE, { recursive: true, force: true });
      return online("ts cold", () => startBotrun(["echo"], botEnv), ONLINE);
    },
    js: () => online("js", () => startBotrun([JS_BOT], botEnv), ONLINE),
    piped: pipedEcho,
  };
  await subjects["ts warm"]!(); // the first start fills the cache (and the OS's file cache): not counted
  delete cpu["ts warm"];
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
  const names = Object.keys(subjects);
  for (let run = 0; run < RUNS; run++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + run) % names.length]!;
      times[name]!.push(await subjects[name]!());
    }
  }
  const raw = times.raw!;
  const fig = (k: string) =>
    `${k.padEnd(8)} median ${median(times[k]!).toFixed(0).padStart(5)} ms (${(median(times[k]!) / median(raw)).toFixed(2)}x)  best ${best(times[k]!).toFixed(0).padStart(5)} ms (${(best(times[k]!) / best(raw)).toFixed(2)}x)`;
  console.log(`start-up, ${RUNS} interleaved runs: process start -> online, X-MESSENGER-OAUTH2 with an access token over direct TLS on loopback (Prosody ${prosody.directTlsPort}); ratios to the raw @xmpp/client script of the same run`);
  const cpuFig = (k: string) => `CPU ${median(cpu[k]!).toFixed(0).padStart(4)} ms (${(median(cpu[k]!) / median(cpu.raw!)).toFixed(2)}x)`;
  for (const k of ["raw", "ts warm", "ts cold", "js"]) console.log(`  ${fig(k)}  | ${cpuFig(k)}`);
  console.log(`  printf 'hi\\n' | botrun echo (terminal chat, start to exit): median ${median(times.piped!).toFixed(0)} ms, best ${best(times.piped!).toFixed(0)} ms`);
} finally {
  await prosody.stop();
  await oauth.stop();
}

/** Wall time of `printf 'hi\n' | botrun echo` (compiled packages, no server configured); rejects unless it answers and exits 0. */
function pipedEcho(): Promise<number> {
  const t0 = performance.now();
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", BOTRUN_COMPILED: "1" };
  const child = spawn(process.execPath, [`${REPO_ROOT}packages/core/bin/botrun.mjs`, "echo"], { cwd: REPO_ROOT, env, stdio: ["pipe", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stdin.end("hi\n");
  return new Promise((resolve, reject) =>
    child.on("close", (code) => (code === 0 && out.includes("hi") ? resolve(performance.now() - t0) : reject(new Error(`botrun echo exited ${code}, output ${JSON.stringify(out)}`)))),
  );
}
