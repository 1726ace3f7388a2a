// `botrun accounts import|list|remove <bot>` and `botrun fleet <bot>`: the fleet's command line, loaded by the botrun CLI only when one of them is run.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import yargs from "yargs";
import { ConfigError, createPinoLogger, ExitCode, isLogLevel, logFormatFrom, registerSecret, UnhandledRejections, type Bot, type Logger } from "@botrun/core";
import { AccountStore, parseAccountLines, type AccountInfo } from "./accounts.ts";
import { closeRedis, connectRedis, REDIS_SETTING, redisUrlFrom, type FleetRedis } from "./redis.ts";
import { SECRET_SETTING, SecretBoxError, secretBoxFromEnv } from "./secret-box.ts";
import { FleetWorker } from "./worker.ts";
import { DEFAULT_ABANDON_MS } from "./single-flight.ts";
import { startFleetHttp, type FleetHttp } from "./http.ts";

/** What the botrun CLI lends the fleet commands (its bot loader and settings reader). */
export interface FleetCliDeps {
  cwd: string;
  loadBot(spec: string, cwd: string): Promise<{ bot: Bot; dir: string }>;
  botEnv(opts: { botName: string; botDir: string; cwd: string; envFiles?: string[] }): NodeJS.ProcessEnv;
  errorExitCode(error: unknown): number;
  oneLine(error: unknown, botName?: string): string;
}

export { REDIS_SETTING };

/** The worker id: BOTRUN_WORKER_ID, else `<host>:<pid>`. */
export function workerIdFrom(env: NodeJS.ProcessEnv): string {
  const id = env.BOTRUN_WORKER_ID?.trim();
  if (id && !/^[\w.:@-]{1,100}$/.test(id)) throw new ConfigError("BOTRUN_WORKER_ID", "1-100 letters, digits or . : @ - _", id);
  return id || `${hostname()}:${process.pid}`;
}

/** BOTRUN_FLEET_LEASE_TTL (seconds, 1-120; default 8) in ms. */
export function leaseTtlFrom(env: NodeJS.ProcessEnv): number {
  const v = env.BOTRUN_FLEET_LEASE_TTL?.trim();
  if (!v) return 8000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1 || n > 120) throw new ConfigError("BOTRUN_FLEET_LEASE_TTL", "seconds (1-120)", v);
  return Math.round(n * 1000);
}

/** BOTRUN_FLEET_LOGIN_RATE (logins per second fleet-wide, 1-10000; default 20). */
export function loginRateFrom(env: NodeJS.ProcessEnv): number {
  const v = env.BOTRUN_FLEET_LOGIN_RATE?.trim();
  if (!v) return 20;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new ConfigError("BOTRUN_FLEET_LOGIN_RATE", "a whole number of logins per second (1-10000)", v);
  return n;
}

/** BOTRUN_FLEET_REFRESH_ABANDON (seconds, 40-86400; default 300) in ms: when an in-flight refresh whose worker went silent counts as abandoned. */
export function refreshAbandonFrom(env: NodeJS.ProcessEnv): number {
  const v = env.BOTRUN_FLEET_REFRESH_ABANDON?.trim();
  if (!v) return DEFAULT_ABANDON_MS;
  const n = Number(v);
  // At least the request timeout (15 s) twice plus slack: a holder must be able to send and hear back within it.
  if (!Number.isFinite(n) || n < 40 || n > 86_400) throw new ConfigError("BOTRUN_FLEET_REFRESH_ABANDON", "seconds (40-86400)", v);
  return Math.round(n * 1000);
}

/** A port setting (0-65535), or undefined when unset; throws ConfigError naming BOTRUN_HTTP_PORT. */
function portFrom(v: string | number | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(typeof v === "string" ? v.trim() : v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError("BOTRUN_HTTP_PORT", "a TCP port number (0-65535)", String(v));
  return n;
}

interface Common {
  bot: string;
  redis?: string;
  envFiles: string[];
}

async function withStore<T>(deps: FleetCliDeps, a: Common, fn: (store: AccountStore, bot: Bot) => Promise<T>): Promise<T> {
  const loaded = await deps.loadBot(a.bot, deps.cwd);
  const env = deps.botEnv({ botName: loaded.bot.name, botDir: loaded.dir, cwd: deps.cwd, envFiles: a.envFiles });
  const box = secretBoxFromEnv(env);
  const redis = connectRedis(redisUrlFrom(env, a.redis), { name: "botrun-accounts", commandTimeoutMs: 5000 });
  const reach = watchReachability(redis);
  try {
    return await fn(new AccountStore(redis, box, loaded.bot.name), loaded.bot).catch(reach.explain);
  } finally {
    await closeRedis(redis);
  }
}

/** A worker whose secret does not open the stored credentials stops at once (exit 2) instead of failing every account. */
async function checkSecretOpens(store: AccountStore): Promise<void> {
  const [sample] = await store.jids();
  if (!sample) return;
  try {
    await store.credentials(sample);
  } catch (err) {
    if (err instanceof SecretBoxError) throw new ConfigError(SECRET_SETTING, "the secret the accounts were imported with (this one does not open their credentials)");
    throw err;
  }
}

/** Redis could not be reached (at start): exit 4, retry later. */
class RedisUnreachableError extends Error {
  override readonly name = "RedisUnreachableError";
  readonly exitCode = ExitCode.UNAVAILABLE;
}

/**
 * Keep the client's connection errors (ioredis would print each one as an unhandled error event)
 * and turn a command that failed while Redis was unreachable into one line naming the setting.
 */
function watchReachability(redis: FleetRedis): { explain: (err: unknown) => never } {
  let last: string | undefined;
  redis.on("error", (e: NodeJS.ErrnoException) => (last = e.code ?? e.message));
  return {
    explain: (err: unknown): never => {
      if (redis.status !== "ready" && last) throw new RedisUnreachableError(`${REDIS_SETTING}: cannot reach Redis (${last}); check the URL, or retry later`);
      throw err;
    },
  };
}

function formatList(list: AccountInfo[]): string {
  if (list.length === 0) return "no accounts\n";
  const rows = [["JID", "STATE", "OWNER", "GEN", "LAST REFRESH"], ...list.map((a) => [a.jid, a.state, a.owner ?? "-", a.generation === undefined ? "-" : String(a.generation), a.lastRefresh ? new Date(a.lastRefresh).toISOString() : "-"])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()).join("\n") + "\n";
}

/** Run a worker until SIGTERM/SIGINT/SIGHUP, then hand every account off and resolve 0. */
async function runWorker(deps: FleetCliDeps, a: Common & { workerId?: string; logLevel?: string; httpPort?: number; httpHost?: string }): Promise<number> {
  const loaded = await deps.loadBot(a.bot, deps.cwd);
  const env = deps.botEnv({ botName: loaded.bot.name, botDir: loaded.dir, cwd: deps.cwd, envFiles: a.envFiles });
  for (const k of ["OAUTH_CLIENT_SECRET", "XMPP_PASSWORD"]) registerSecret(env[k]?.trim());
  const box = secretBoxFromEnv(env);
  const url = redisUrlFrom(env, a.redis);
  const workerId = a.workerId?.trim() || workerIdFrom(env);
  const ttlMs = leaseTtlFrom(env);
  const loginsPerSecond = loginRateFrom(env);
  const refreshAbandonMs = refreshAbandonFrom(env);
  const level = a.logLevel ?? env.BOTRUN_LOG_LEVEL?.trim() ?? "info";
  if (!isLogLevel(level)) throw new ConfigError("BOTRUN_LOG_LEVEL", "one of trace, debug, info, warn, error, fatal, silent", level);
  const httpPort = a.httpPort ?? portFrom(env.BOTRUN_HTTP_PORT);
  const httpHost = a.httpHost ?? (env.BOTRUN_HTTP_HOST?.trim() || "127.0.0.1");
  const logger: Logger = createPinoLogger({ level, format: logFormatFrom(env) }).child({ bot: loaded.bot.name });
  const redis: FleetRedis = connectRedis(url, { commandTimeoutMs: Math.max(200, Math.round(ttlMs / 4)), name: `botrun-fleet:${workerId}` });
  const reach = watchReachability(redis); // later outages are reported by the worker's rounds, once each
  const worker = new FleetWorker({ bot: loaded.bot, env, redis, box, workerId, logger, ttlMs, loginsPerSecond, refreshAbandonMs });
  // A rejection nobody handled is a bug: logged at error level with a count, never hidden (as `botrun` does).
  new UnhandledRejections(logger).install();
  const stopped = new Promise<void>((resolve) => {
    let signalled = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (++signalled > 1) process.exit(ExitCode.FAILURE);
      logger.info("stopping: handing every account off", { signal: sig });
      void worker.stop().then(resolve);
    };
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, onSignal);
  });
  await checkSecretOpens(new AccountStore(redis, box, loaded.bot.name)).catch(async (err: unknown) => {
    await closeRedis(redis);
    return reach.explain(err);
  });
  let http: FleetHttp | undefined;
  if (httpPort !== undefined) {
    try {
      http = await startFleetHttp(() => worker.status(), httpPort, httpHost);
    } catch (err) {
      await closeRedis(redis);
      throw new ConfigError("BOTRUN_HTTP_PORT", `a free port on ${httpHost} (${(err as NodeJS.ErrnoException).code ?? "cannot listen"}); pick another with --http-port`);
    }
    logger.info("http endpoint listening", { url: http.url, paths: "/healthz /readyz /metrics" });
  }
  await worker.start().catch(async (err: unknown) => {
    await http?.close();
    await closeRedis(redis);
    return reach.explain(err);
  });
  await stopped;
  await http?.close();
  await closeRedis(redis);
  logger.info("worker stopped", { handoffs: worker.stats.handoffs });
  // Sessions are closed and Redis is quit; what remains are abandoned handlers: exit 0 now.
  setImmediate(() => process.exit(ExitCode.OK));
  return ExitCode.OK;
}

/** Run `botrun accounts …` or `botrun fleet …` (`args` start with the command name); resolves with the exit code. */
export async function fleetMain(args: string[], deps: FleetCliDeps): Promise<number> {
  let code: number = ExitCode.OK;
  const out = (s: string) => process.stdout.write(s);
  const common = (a: Record<string, unknown>): Common => ({ bot: String(a.bot), envFiles: (a["env-file"] as string[] | undefined) ?? [], ...(a.redis !== undefined && { redis: String(a.redis) }) });
  const parser = yargs(args)
    .scriptName("botrun")
    .command("accounts", "Manage the accounts of a bot's fleet (in Redis)", (y) =>
      y
        .command("import <bot> <file>", "Import accounts from a JSON-lines file ({\"jid\":…,\"refreshToken\":…} or {\"jid\":…,\"password\":…})", (z) => z.positional("bot", { type: "string", demandOption: true }).positional("file", { type: "string", demandOption: true }), async (a) => {
          const file = String(a.file);
          let text: string;
          try {
            text = readFileSync(file, "utf8");
          } catch (err) {
            throw new ConfigError("<file>", "a readable JSON-lines file", `${file}: ${(err as NodeJS.ErrnoException).code ?? "unreadable"}`);
          }
          const accounts = parseAccountLines(text, file);
          const n = await withStore(deps, common(a), (s) => s.import(accounts));
          out(`imported ${n} account${n === 1 ? "" : "s"}\n`);
        })
        .command("list <bot>", "List accounts: owner, state, last refresh", (z) => z.positional("bot", { type: "string", demandOption: true }).option("json", { type: "boolean", describe: "one JSON array" }), async (a) => {
          const list = await withStore(deps, common(a), (s) => s.list());
          out(a.json ? JSON.stringify(list) + "\n" : formatList(list));
        })
        .command("remove <bot> <jid>", "Remove an account (its worker hands it off at its next round)", (z) => z.positional("bot", { type: "string", demandOption: true }).positional("jid", { type: "string", demandOption: true }), async (a) => {
          const removed = await withStore(deps, common(a), (s) => s.remove(String(a.jid)));
          if (!removed) {
            process.stderr.write(`botrun accounts: no account ${String(a.jid)}\n`);
            code = ExitCode.CONFIG;
          } else out(`removed ${String(a.jid)}\n`);
        })
        .demandCommand(1, "name a subcommand: import, list or remove"),
    )
    .command("fleet <bot>", "Run a fleet worker for a bot: it shares the bot's accounts with the other workers", (y) => y.positional("bot", { type: "string", demandOption: true }).option("worker-id", { type: "string", describe: "this worker's id (BOTRUN_WORKER_ID, default host:pid)" })
        .option("http-port", { type: "string", describe: "serve /healthz, /readyz and /metrics on this port (BOTRUN_HTTP_PORT)" })
        .option("http-host", { type: "string", describe: "address of the HTTP endpoint (BOTRUN_HTTP_HOST, default 127.0.0.1)" }), async (a) => {
      code = await runWorker(deps, {
        ...common(a),
        ...(a["worker-id"] !== undefined && { workerId: String(a["worker-id"]) }),
        ...(a["log-level"] !== undefined && { logLevel: String(a["log-level"]) }),
        ...(a["http-port"] !== undefined && { httpPort: portFrom(String(a["http-port"])) }),
        ...(a["http-host"] !== undefined && { httpHost: String(a["http-host"]) }),
      });
    })
    .option("redis", { type: "string", describe: "the fleet's Redis URL (BOTRUN_FLEET_REDIS)" })
    .option("env-file", { type: "string", array: true, describe: "extra .env file(s) to read" })
    .option("log-level", { type: "string", describe: "log level (default info)" })
    .strict()
    .help()
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`botrun ${args[0]}: ${error.message}\nRun "botrun ${args[0]} --help" for usage.\n`);
      return ExitCode.CONFIG;
    }
    process.stderr.write(deps.oneLine(error) + "\n");
    return deps.errorExitCode(error);
  }
  return code;
}

/** Wrong command-line usage (missing or unknown arguments): exit 2. */
class UsageError extends Error {
  override readonly name = "UsageError";
}
