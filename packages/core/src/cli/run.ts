/**
 * `botrun <bot...>`: load each bot, give it its own transport and runtime, run until a
 * signal (SIGINT/SIGTERM), the end of piped input, or a fatal error; stop gracefully.
 * One bot failing does not stop the others.
 */
import { ConfigError } from "../config/index.ts";
import { ExitCode } from "../exit-codes.ts";
import { createConsoleLogger, type Logger, type LogLevel } from "../logger.ts";
import { BotRuntime } from "../runtime/runtime.ts";
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
  logger?: Logger;
  /** Install SIGINT/SIGTERM handlers (default true). */
  signals?: boolean;
}

/** Run bots until they stop; resolves with the process exit code. */
export async function runBots(opts: RunOptions): Promise<number> {
  const cwd = opts.cwd ?? process.cwd();
  const errorLine = opts.errorLine ?? ((l: string) => process.stderr.write(l + "\n"));
  const runtimes: BotRuntime[] = [];
  const providers: Array<{ stop?(): void }> = [];
  let consoleBots = 0;

  try {
    for (const spec of opts.bots) {
      const loaded = await loadBot(spec, cwd);
      const env = botEnv({ botName: loaded.bot.name, botDir: loaded.dir, cwd, envFiles: opts.envFiles, env: opts.env });
      const level = opts.logLevel ?? (env.BOTRUN_LOG_LEVEL as LogLevel | undefined);
      const base = opts.logger ?? createConsoleLogger({ level: level ?? (opts.mode === "console" || !hasServer(env) ? "warn" : "info") });
      const logger = base.child({ bot: loaded.bot.name });
      const debug = opts.debug || env.XMPP_DEBUG === "1" || env.XMPP_DEBUG === "true";
      const { transport, tokenProvider } = await buildTransport({ botName: loaded.bot.name, env, mode: opts.mode, debug, logger });
      if (tokenProvider) providers.push(tokenProvider);
      if (transport.kind === "console" && ++consoleBots > 1) {
        throw new ConfigError("XMPP_SERVICE", `a server for all but one bot: only one bot can use the terminal chat (set ${loaded.bot.name.toUpperCase()}_XMPP_SERVICE)`);
      }
      runtimes.push(new BotRuntime(loaded.bot, transport, { logger }));
    }
  } catch (error) {
    for (const p of providers) p.stop?.();
    errorLine(oneLine(error));
    return errorExitCode(error);
  }

  const codes: number[] = [];
  const finished = runtimes.map(
    (rt) =>
      new Promise<void>((resolve) => {
        rt.once("stopped", ({ exitCode }) => {
          codes.push(exitCode);
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
        errorLine(oneLine(error, rt.bot.name));
        await rt.stop(errorExitCode(error));
      }
    }),
  );
  await Promise.all(finished);
  for (const p of providers) p.stop?.();
  if (opts.signals !== false) {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return codes.find((c) => c !== 0) ?? ExitCode.OK;
}

function hasServer(env: Env): boolean {
  return Boolean(env.XMPP_DOMAIN || env.XMPP_SERVICE);
}
