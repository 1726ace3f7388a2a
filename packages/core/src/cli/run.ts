/**
 * `botrun <bot...>`: load each bot, give it its own transport and runtime, run until a
 * signal (SIGINT/SIGTERM), the end of piped input, or a fatal error; stop gracefully.
 * One bot failing does not stop the others; the exit code reports the first failure once all
 * have stopped. Logs go through pino (JSON or pretty), secrets are registered for masking, and
 * an opt-in HTTP endpoint serves /healthz, /readyz and /metrics.
 */
import type { TokenProvider } from "../auth/types.ts";
import { ConfigError } from "../config/index.ts";
import { ExitCode } from "../exit-codes.ts";
import { registerSecret, type Logger, type LogLevel } from "../logger.ts";
import { redirectConsole } from "../observability/console-redirect.ts";
import { startHttpEndpoint, type HttpEndpoint } from "../observability/http-server.ts";
import { ServiceMetrics } from "../observability/metrics.ts";
import { createPinoLogger, isLogLevel, logFormatFrom } from "../observability/pino-logger.ts";
import { ConsoleTransport } from "../console/index.ts";
import { BotRuntime } from "../runtime/runtime.ts";
import { TransportStoppedError } from "../xmpp/errors.ts";
import { botEnv, type Env } from "./env.ts";
import { loadBot } from "./resolve-bot.ts";
import { buildTransport, type TransportMode } from "./transport-factory.ts";
import { errorExitCode, oneLine } from "./errors.ts";

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
  /** Install SIGINT/SIGTERM handlers (default true). */
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
      const base = opts.logger ?? createPinoLogger({ level, format: logFormatFrom(env) });
      const logger = base.child({ bot: loaded.bot.name });
      const { transport, tokenProvider } = await buildTransport({ botName: loaded.bot.name, env, mode: opts.mode, debug, logger });
      if (transport.kind === "console" && ++consoleBots > 1) {
        tokenProvider?.stop?.();
        throw new ConfigError("XMPP_SERVICE", `a server for all but one bot: only one bot can use the terminal chat (set ${loaded.bot.name.toUpperCase()}_XMPP_SERVICE)`);
      }
      // BotRuntime adds the `bot` field itself.
      // Piped terminal input: replies in input order, even when `/as` switches between chats.
      const piped = transport instanceof ConsoleTransport && !transport.interactive;
      const rt = new BotRuntime(loaded.bot, transport, { logger: base, ...(piped ? { sequenceKey: () => "console" } : {}) });
      if (tokenProvider) {
        registerTokensOf(tokenProvider);
        providers.set(rt, tokenProvider);
      }
      runtimes.push(rt);
    }
  } catch (error) {
    for (const p of providers.values()) p.stop?.();
    errorLine(oneLine(error));
    return errorExitCode(error);
  }

  const penv = processEnv ?? opts.env ?? process.env;
  const processLogger = opts.logger ?? createPinoLogger({ level: processLevel, format: logFormatFrom(penv) });
  const restoreConsole = anyDebug
    ? redirectConsole(opts.logger ?? createPinoLogger({ level: "debug", format: logFormatFrom(penv) }))
    : undefined;
  const onUnhandled = (reason: unknown) => processLogger.error("unhandled promise rejection (contained)", { error: reason });
  process.on("unhandledRejection", onUnhandled);

  // Health and metrics endpoint.
  let http: HttpEndpoint | undefined;
  let metrics = opts.metrics;
  try {
    const port = opts.httpPort ?? parsePort(penv.BOTRUN_HTTP_PORT, "BOTRUN_HTTP_PORT");
    if (port !== undefined || metrics) {
      metrics ??= new ServiceMetrics();
      for (const rt of runtimes) {
        metrics.watch({ name: rt.bot.name, runtime: rt, transport: rt.transport, tokenProvider: providers.get(rt) });
      }
    }
    if (port !== undefined) {
      const host = opts.httpHost ?? (penv.BOTRUN_HTTP_HOST?.trim() || "127.0.0.1");
      http = await startHttpEndpoint({ metrics: metrics!, port, host });
      processLogger.info("http endpoint listening", { url: http.url, paths: "/healthz /readyz /metrics" });
      opts.onHttpListening?.(http.url);
    }
  } catch (error) {
    for (const p of providers.values()) p.stop?.();
    process.off("unhandledRejection", onUnhandled);
    restoreConsole?.();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      errorLine(`botrun: BOTRUN_HTTP_PORT: expected a free port on ${opts.httpHost ?? "the HTTP host"} (${code}); pick another with --http-port`);
      return ExitCode.CONFIG;
    }
    errorLine(oneLine(error));
    return errorExitCode(error);
  }

  const codes: number[] = [];
  const finished = runtimes.map(
    (rt) =>
      new Promise<void>((resolve) => {
        rt.once("stopped", ({ exitCode }) => {
          codes.push(exitCode);
          // This bot is done: stop refreshing its tokens now, the others carry on.
          providers.get(rt)?.stop?.();
          if (runtimes.length > 1) processLogger.info("bot stopped", { bot: rt.bot.name, exitCode });
          resolve();
        });
        rt.transport.on("fatal", ({ error, exitCode }) => {
          errorLine(oneLine(error, rt.bot.name));
          void rt.stop(exitCode);
        });
        (rt.transport as { on(e: "end", l: () => void): unknown }).on("end", () => void rt.stop(ExitCode.OK));
      }),
  );

  let signalled = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signalled > 1) {
      errorLine(`botrun: second ${sig}, exiting at once`);
      process.exit(ExitCode.FAILURE);
    }
    processLogger.info("stopping", { signal: sig });
    for (const rt of runtimes) void rt.stop(ExitCode.OK);
  };
  if (opts.signals !== false) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }

  await Promise.all(
    runtimes.map(async (rt) => {
      try {
        await rt.start();
      } catch (error) {
        // Stopped (a signal, the end of input) before it was connected: not an error.
        if (error instanceof TransportStoppedError) return rt.stop(ExitCode.OK);
        errorLine(oneLine(error, rt.bot.name));
        await rt.stop(errorExitCode(error));
      }
    }),
  );
  await Promise.all(finished);
  for (const p of providers.values()) p.stop?.();
  await http?.close();
  if (opts.signals !== false) {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  process.off("unhandledRejection", onUnhandled);
  restoreConsole?.();
  return codes.find((c) => c !== 0) ?? ExitCode.OK;
}

function hasServer(env: Env): boolean {
  return Boolean(env.XMPP_DOMAIN || env.XMPP_SERVICE);
}
