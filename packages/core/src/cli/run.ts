/**
 * `botrun <bot...>`: load each bot, give it its own transport and runtime, run until a
 * signal (SIGINT/SIGTERM/SIGHUP), the end of piped input, or a fatal error; stop gracefully
 * within a budget (BOTRUN_DRAIN_TIMEOUT + XMPP_STOP_TIMEOUT + 3 s), close the token stores, exit.
 * One bot failing does not stop the others; the exit code reports the first failure once all
 * have stopped. Logs go through pino (JSON or pretty), secrets are registered for masking, and
 * an opt-in HTTP endpoint serves /healthz, /readyz and /metrics.
 */
import os from "node:os";
import type { TokenProvider } from "../auth/types.ts";
import { reportVersionOs } from "../config/config.ts";
import { ConfigError } from "../config/index.ts";
import { ExitCode } from "../exit-codes.ts";
import { registerSecret, type Logger, type LogLevel } from "../logger.ts";
import { redirectConsole } from "../observability/console-redirect.ts";
// Metrics (prom-client) and the HTTP server load only when the endpoint is on (start-up time).
import type { HttpEndpoint } from "../observability/http-server.ts";
import type { ServiceMetrics } from "../observability/metrics.ts";
import { createPinoLogger, isLogLevel, logFormatFrom } from "../observability/pino-logger.ts";
import type { ConsoleTransport } from "../console/index.ts";
import { BotRuntime } from "../runtime/runtime.ts";
import { TransportStoppedError } from "../xmpp/errors.ts";
import { botEnv, type Env } from "./env.ts";
import { loadBot } from "./resolve-bot.ts";
import { buildTransport, type TransportMode } from "./transport-factory.ts";
import { errorExitCode, oneLine } from "./errors.ts";
import { exitWhenIdle, STOP_SLACK_MS, StopDeadline, StopLogGate } from "./process-stop.ts";
import { UnhandledRejections } from "./unhandled-rejections.ts";

/** Options of `runBots`. */
export interface RunOptions {
  bots: string[];
  mode: TransportMode;
  debug: boolean;
  envFiles: string[];
  logLevel?: LogLevel;
  cwd?: string;
  env?: Env;
  /** Where user-facing error lines go. */
  errorLine?: (line: string) => void;
  /** Log through this logger instead of a pino logger built from the environment. */
  logger?: Logger;
  /**
   * Own the process (default true): SIGINT/SIGTERM/SIGHUP handlers, the stop budget (past it the
   * process exits), and an exit once every bot has stopped even if abandoned work is left.
   */
  signals?: boolean;
  /** Serve /healthz, /readyz, /metrics on this port (0: any free port); default `BOTRUN_HTTP_PORT`, else off. */
  httpPort?: number;
  /** Address of the HTTP endpoint; default `BOTRUN_HTTP_HOST`, else 127.0.0.1. */
  httpHost?: string;
  /** Told the endpoint's URL once it listens (tests). */
  onHttpListening?: (url: string) => void;
  /** Use these metrics (tests); default: a new `ServiceMetrics` when the endpoint is on. */
  metrics?: ServiceMetrics;
}

/** Settings that hold secrets: registered for masking before anything is logged. */
const SECRET_SETTINGS = ["XMPP_PASSWORD", "XMPP_ACCESS_TOKEN", "OAUTH_CLIENT_SECRET", "OAUTH_REFRESH_TOKEN"];

/** Register the secret values of a bot's environment for masking. */
export function registerEnvSecrets(env: Env): void {
  for (const k of SECRET_SETTINGS) registerSecret(env[k]?.trim());
}

/** Make every access token a provider hands out a registered secret (the provider may do it too). */
function registerTokensOf(tp: TokenProvider): void {
  const get = tp.getAccessToken.bind(tp);
  tp.getAccessToken = async (o) => {
    const token = await get(o);
    registerSecret(token, { rotating: true });
    return token;
  };
}

/** Default of BOTRUN_DRAIN_TIMEOUT: how long handlers may run on after a stop began. */
const DEFAULT_DRAIN_MS = 10_000;

/** BOTRUN_DRAIN_TIMEOUT in ms (seconds in the environment); throws ConfigError naming it. */
function drainTimeoutMs(env: Env): number {
  const v = env.BOTRUN_DRAIN_TIMEOUT?.trim();
  if (!v) return DEFAULT_DRAIN_MS;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 3600) throw new ConfigError("BOTRUN_DRAIN_TIMEOUT", "seconds (0-3600)", v);
  return Math.round(n * 1000);
}

/** Stop the provider's refreshes and close its token store (a Redis connection); never throws. */
async function closeProvider(tp: TokenProvider): Promise<void> {
  try {
    if (tp.close) await tp.close();
    else tp.stop?.();
  } catch {
    /* closing is best effort: the process is ending */
  }
}

/** Parse a port setting; throws ConfigError naming `setting`. */
function parsePort(value: string | number | undefined, setting: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = typeof value === "number" ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(setting, "a TCP port number (0-65535)", String(value));
  return n;
}

/** Run bots until they stop; resolves with the process exit code. */
export async function runBots(opts: RunOptions): Promise<number> {
  const cwd = opts.cwd ?? process.cwd();
  const errorLine = opts.errorLine ?? ((l: string) => process.stderr.write(l + "\n"));
  const runtimes: BotRuntime[] = [];
  const providers = new Map<BotRuntime, TokenProvider>();
  const gate = new StopLogGate();
  /** Per bot: the longest its stop may take (drain + XMPP_STOP_TIMEOUT). */
  let stopBudgetMs = 0;
  let consoleBots = 0;
  let anyDebug = false;
  let processEnv: Env | undefined;
  let processLevel: LogLevel = "info";

  try {
    for (const spec of opts.bots) {
      const loaded = await loadBot(spec, cwd);
      const env = botEnv({ botName: loaded.bot.name, botDir: loaded.dir, cwd, envFiles: opts.envFiles, env: opts.env });
      registerEnvSecrets(env);
      processEnv ??= env;
      const envLevel = env.BOTRUN_LOG_LEVEL?.trim();
      if (envLevel && !isLogLevel(envLevel)) throw new ConfigError("BOTRUN_LOG_LEVEL", "one of trace, debug, info, warn, error, fatal, silent", envLevel);
      const debug = opts.debug || env.XMPP_DEBUG === "1" || env.XMPP_DEBUG === "true";
      anyDebug ||= debug;
      const level = opts.logLevel ?? (envLevel as LogLevel | undefined) ?? (debug ? "debug" : opts.mode === "console" || !hasServer(env) ? "warn" : "info");
      if (runtimes.length === 0) processLevel = level;
      const base = gate.wrap(opts.logger ?? createPinoLogger({ level, format: logFormatFrom(env) }));
      const logger = base.child({ bot: loaded.bot.name });
      const drainMs = drainTimeoutMs(env);
      const versionOs = reportVersionOs(env);
      const { transport, tokenProvider, config } = await buildTransport({ botName: loaded.bot.name, env, mode: opts.mode, debug, logger });
      stopBudgetMs = Math.max(stopBudgetMs, drainMs + (config?.tuning.stopTimeoutMs ?? 0));
      if (transport.kind === "console" && ++consoleBots > 1) {
        if (tokenProvider) await closeProvider(tokenProvider);
        throw new ConfigError("XMPP_SERVICE", `a server for all but one bot: only one bot can use the terminal chat (set ${loaded.bot.name.toUpperCase()}_XMPP_SERVICE)`);
      }
      // BotRuntime adds the `bot` field itself.
      // Piped terminal input: replies in input order, even when `/as` switches between chats.
      const piped = transport.kind === "console" && !(transport as ConsoleTransport).interactive;
      const rt = new BotRuntime(loaded.bot, transport, {
        logger: base,
        drainTimeoutMs: drainMs,
        // XEP-0092 §3: <os/> is optional; reported only when BOTRUN_VERSION_OS is set (it tells peers what to attack).
        ...(versionOs ? { versionOs: `${os.type()} ${os.release()}` } : {}),
        ...(piped ? { sequenceKey: () => "console" } : {}),
      });
      if (tokenProvider) {
        registerTokensOf(tokenProvider);
        providers.set(rt, tokenProvider);
      }
      runtimes.push(rt);
    }
  } catch (error) {
    await Promise.all([...providers.values()].map(closeProvider));
    errorLine(oneLine(error));
    return errorExitCode(error);
  }

  const penv = processEnv ?? opts.env ?? process.env;
  /** Ungated: the lines about the stop itself. */
  const rawLogger = opts.logger ?? createPinoLogger({ level: processLevel, format: logFormatFrom(penv) });
  const processLogger = gate.wrap(rawLogger);
  const restoreConsole = anyDebug
    ? redirectConsole(opts.logger ?? createPinoLogger({ level: "debug", format: logFormatFrom(penv) }))
    : undefined;
  // A bug if it ever fires (the known xmpp.js one is contained at its origin): an error line and a metric.
  const unhandled = new UnhandledRejections(processLogger).install();

  // Health and metrics endpoint.
  let http: HttpEndpoint | undefined;
  let metrics = opts.metrics;
  try {
    const port = opts.httpPort ?? parsePort(penv.BOTRUN_HTTP_PORT, "BOTRUN_HTTP_PORT");
    if (port !== undefined || metrics) {
      metrics ??= new (await import("../observability/metrics.ts")).ServiceMetrics();
      unhandled.register(metrics.registry);
      for (const rt of runtimes) {
        metrics.watch({ name: rt.bot.name, runtime: rt, transport: rt.transport, tokenProvider: providers.get(rt) });
      }
    }
    if (port !== undefined) {
      const host = opts.httpHost ?? (penv.BOTRUN_HTTP_HOST?.trim() || "127.0.0.1");
      const { startHttpEndpoint } = await import("../observability/http-server.ts");
      http = await startHttpEndpoint({ metrics: metrics!, port, host });
      processLogger.info("http endpoint listening", { url: http.url, paths: "/healthz /readyz /metrics" });
      opts.onHttpListening?.(http.url);
    }
  } catch (error) {
    await Promise.all([...providers.values()].map(closeProvider));
    unhandled.uninstall();
    restoreConsole?.();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      errorLine(`botrun: BOTRUN_HTTP_PORT: expected a free port on ${opts.httpHost ?? "the HTTP host"} (${code}); pick another with --http-port`);
      return ExitCode.CONFIG;
    }
    errorLine(oneLine(error));
    return errorExitCode(error);
  }

  const owns = opts.signals !== false;
  const codes: number[] = [];
  const exitCode = () => codes.find((c) => c !== 0) ?? ExitCode.OK;
  // The whole stop is bounded: past the budget the process exits with what it has.
  const budgetMs = stopBudgetMs + STOP_SLACK_MS;
  const deadline = new StopDeadline(budgetMs, () => {
    rawLogger.warn("stop did not finish within its budget; exiting now", {
      budgetS: budgetMs / 1000,
      budget: "BOTRUN_DRAIN_TIMEOUT + XMPP_STOP_TIMEOUT + 3 s",
    });
    gate.summary(rawLogger);
    process.exit(exitCode());
  });
  const stopping = new Set<BotRuntime>();
  const stopBot = (rt: BotRuntime, code: number): Promise<void> => {
    stopping.add(rt);
    if (stopping.size === runtimes.length) {
      // The process is stopping: from here on, each distinct log line once.
      gate.close();
      if (owns) deadline.arm();
    }
    return rt.stop(code);
  };
  const finished = runtimes.map(
    (rt) =>
      new Promise<void>((resolve) => {
        rt.once("stopped", ({ exitCode }) => {
          codes.push(exitCode);
          stopping.add(rt);
          if (runtimes.length > 1) processLogger.info("bot stopped", { bot: rt.bot.name, exitCode });
          // This bot is done: stop refreshing its tokens and close its store now, the others carry on.
          const tp = providers.get(rt);
          void (tp ? closeProvider(tp) : Promise.resolve()).then(resolve);
        });
        rt.transport.on("fatal", ({ error, exitCode }) => {
          errorLine(oneLine(error, rt.bot.name));
          void stopBot(rt, exitCode);
        });
        (rt.transport as { on(e: "end", l: () => void): unknown }).on("end", () => void stopBot(rt, ExitCode.OK));
      }),
  );

  let signalled = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signalled > 1) {
      errorLine(`botrun: second ${sig}, exiting at once`);
      process.exit(ExitCode.FAILURE);
    }
    processLogger.info("stopping", { signal: sig, budgetS: budgetMs / 1000 });
    for (const rt of runtimes) void stopBot(rt, ExitCode.OK);
  };
  const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  if (owns) for (const sig of SIGNALS) process.on(sig, onSignal);

  await Promise.all(
    runtimes.map(async (rt) => {
      try {
        await rt.start();
      } catch (error) {
        // Stopped (a signal, the end of input) before it was connected: not an error.
        if (error instanceof TransportStoppedError) return stopBot(rt, ExitCode.OK);
        errorLine(oneLine(error, rt.bot.name));
        await stopBot(rt, errorExitCode(error));
      }
    }),
  );
  await Promise.all(finished);
  await Promise.all([...providers.values()].map(closeProvider));
  await http?.close();
  if (owns) for (const sig of SIGNALS) process.off(sig, onSignal);
  unhandled.uninstall();
  restoreConsole?.();
  gate.summary(rawLogger);
  deadline.disarm();
  const code = exitCode();
  // Everything botrun opened is closed; what still runs is abandoned work (a backlog of handlers).
  if (owns) exitWhenIdle(code, rawLogger);
  return code;
}

function hasServer(env: Env): boolean {
  return Boolean(env.XMPP_DOMAIN || env.XMPP_SERVICE);
}
