/**
 * The `botrun` command line: `botrun <bot...>` runs bots, `botrun auth <bot>` authorizes one
 * with OAuth, `botrun check <bot>` tests its configuration and login step by step, `botrun list`
 * shows the bots it can see. Returns the process exit code.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../config/errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { LEVELS, type LogLevel } from "../logger.ts";
import { botEnv } from "./env.ts";
import { errorExitCode, oneLine } from "./errors.ts";
import { parseRunArgs } from "./fast-args.ts";
import { describeBots, loadBot } from "./resolve-bot.ts";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** Run the CLI with `args` (without node and script); resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  let code: number = ExitCode.OK;
  const cwd = process.cwd();
  if (args[0] === "accounts" || args[0] === "fleet") return runFleetCommand(args, cwd);
  // The hot path, `botrun <bot...> [flags]`, without loading yargs (about a third of start-up).
  const fast = parseRunArgs(args, LEVELS);
  if (fast) {
    try {
      const httpPort = fast.httpPort === undefined ? undefined : portFlag(fast.httpPort);
      const { runBots } = await import("./run.ts");
      return await runBots({
        bots: fast.bots,
        mode: fast.console ? "console" : fast.xmpp ? "xmpp" : "auto",
        debug: fast.debug,
        envFiles: envFilesFlag(fast.envFiles, cwd),
        logLevel: fast.logLevel as LogLevel | undefined,
        cwd,
        ...(httpPort !== undefined && { httpPort }),
        ...(fast.httpHost !== undefined && { httpHost: fast.httpHost }),
      });
    } catch (error) {
      process.stderr.write(oneLine(error) + "\n");
      return errorExitCode(error);
    }
  }
  const [{ default: yargs }, { DEVICE_FLAG_HELP, runAuthCommand }] = await Promise.all([import("yargs"), import("./commands/auth.ts")]);
  // yargs rethrows a coerce error as its own YError: keep ours, whose class sets the exit code.
  let flagError: unknown;
  const flag = <T>(check: () => T): T => {
    try {
      return check();
    } catch (error) {
      throw (flagError = error);
    }
  };
  const parser = yargs(args)
    .scriptName("botrun")
    .usage("Usage: $0 <bot...> [options]\n\nRun XMPP chat bots. With no server configured a bot runs in a terminal chat.")
    .command(
      "$0 <bots..>",
      "Run one or more bots (a name under bots/, a path to a .ts/.js file or folder, or a package name)",
      (y) =>
        y
          .positional("bots", { type: "string", array: true, demandOption: true, describe: "bots to run" })
          .option("console", { type: "boolean", describe: "force the terminal chat even when a server is configured" })
          .option("xmpp", { type: "boolean", describe: "force XMPP (fails if no server is configured)" })
          .option("http-port", { type: "string", coerce: (v: string) => flag(() => portFlag(v)), describe: "serve /healthz, /readyz and /metrics on this port (BOTRUN_HTTP_PORT)" })
          .option("http-host", { type: "string", describe: "address of the HTTP endpoint (BOTRUN_HTTP_HOST, default 127.0.0.1)" })
          .conflicts("console", "xmpp"),
      async (argv) => {
        // Each command loads what it needs when it runs (start-up time).
        const { runBots } = await import("./run.ts");
        code = await runBots({
          bots: argv.bots as string[],
          mode: argv.console ? "console" : argv.xmpp ? "xmpp" : "auto",
          debug: Boolean(argv.debug),
          envFiles: (argv["env-file"] as string[] | undefined) ?? [],
          logLevel: argv["log-level"] as LogLevel | undefined,
          cwd,
          ...(argv["http-port"] !== undefined && { httpPort: argv["http-port"] as number }),
          ...(argv["http-host"] !== undefined && { httpHost: argv["http-host"] as string }),
        });
      },
    )
    .command(
      "auth <bot>",
      "Authorize a bot with OAuth (consent in a browser, or paste the redirected URL) and store its tokens",
      (y) =>
        y
          .positional("bot", { type: "string", demandOption: true })
          .option("browser", { type: "boolean", default: true, describe: "open a browser when there is one" })
          .option("timeout", { type: "number", default: 600, describe: "seconds to wait for consent" })
          .option("device", { type: "boolean", describe: DEVICE_FLAG_HELP })
          .option("account", { type: "string", describe: "store the consent in this account of the bot's fleet (BOTRUN_FLEET_REDIS, BOTRUN_FLEET_SECRET)" })
          .option("redis", { type: "string", describe: "the fleet's Redis URL with --account (BOTRUN_FLEET_REDIS)" }),
      async (argv) => {
        try {
          const loaded = await loadBot(argv.bot as string, cwd);
          const env = botEnv({ botName: loaded.bot.name, botDir: loaded.dir, cwd, envFiles: (argv["env-file"] as string[]) ?? [] });
          await runAuthCommand({
            botName: loaded.bot.name,
            env,
            timeoutMs: (argv.timeout as number) * 1000,
            ...(argv.browser ? {} : { opener: false as const }),
            ...(argv.device !== undefined && { device: argv.device }),
            ...(argv.account !== undefined && { account: argv.account }),
            ...(argv.redis !== undefined && { redis: argv.redis }),
          });
        } catch (error) {
          process.stderr.write(oneLine(error).replace(/^botrun:/, "botrun auth:") + "\n");
          code = error instanceof Error && error.name === "AuthorizationError" ? ExitCode.REAUTH : errorExitCode(error);
        }
      },
    )
    .command(
      "check <bot>",
      "Check a bot's configuration, then connect, authenticate and disconnect, one line per step",
      (y) => y.positional("bot", { type: "string", demandOption: true }),
      async (argv) => {
        const env = process.env;
        const debug = Boolean(argv.debug) || env.XMPP_DEBUG === "1" || env.XMPP_DEBUG === "true";
        const level = (argv["log-level"] as LogLevel | undefined) ?? (debug ? "debug" : "silent");
        const [{ createPinoLogger, logFormatFrom }, { redirectConsole }, { runCheck }] = await Promise.all([
          import("../observability/pino-logger.ts"),
          import("../observability/console-redirect.ts"),
          import("./commands/check.ts"),
        ]);
        const logger = createPinoLogger({ level, format: logFormatFrom(env) });
        const restore = debug ? redirectConsole(logger) : undefined;
        try {
          code = await runCheck({ bot: argv.bot as string, cwd, envFiles: (argv["env-file"] as string[]) ?? [], logger, debug });
        } finally {
          restore?.();
        }
      },
    )
    .command(
      "list",
      "List the bots found under bots/ folders",
      (y) => y,
      () => {
        const bots = describeBots(cwd);
        const width = Math.max(0, ...bots.map((b) => b.name.length));
        process.stdout.write(bots.length ? bots.map((b) => `${b.name.padEnd(width)}  ${b.description}`.trimEnd()).join("\n") + "\n" : "no bots found\n");
      },
    )
    .command(
      "dev <bots..>",
      "Run bots like botrun <bot...> and restart them whenever a source file in their folder changes",
      (y) =>
        y
          .positional("bots", { type: "string", array: true, demandOption: true, describe: "bots to run" })
          .option("console", { type: "boolean", describe: "force the terminal chat even when a server is configured" }),
      async (argv) => {
        const at = args.indexOf("dev");
        const { runDev } = await import("./commands/dev.ts");
        code = await runDev({ bots: argv.bots as string[], args: [...args.slice(0, at), ...args.slice(at + 1)], cwd });
      },
    )
    .command(
      "new <dir>",
      "Create a bot project in a new folder: bot.ts, its tests, .env.example, README, package.json",
      (y) => y.positional("dir", { type: "string", demandOption: true }),
      async (argv) => {
        const { runNew } = await import("./commands/new.ts");
        code = runNew({ dir: argv.dir as string, cwd });
      },
    )
    .option("env-file", { type: "string", array: true, coerce: (files: string[]) => flag(() => envFilesFlag(files, cwd)), describe: "extra .env file(s) to read" })
    .option("debug", { type: "boolean", describe: "log the XMPP stanza trace (SASL payloads hidden); same as XMPP_DEBUG=1" })
    .option("log-level", { type: "string", choices: LEVELS as unknown as string[], describe: "log level (default: info, warn in the terminal chat)" })
    .example("$0 echo", "chat with the echo bot in the terminal (or online, if XMPP_SERVICE is set)")
    .example("printf 'hi\\n' | $0 echo", "pipe lines in; each reply is printed on its own line")
    .example("$0 echo notes", "run two bots in one process (per-bot settings: ECHO_XMPP_SERVICE, NOTES_XMPP_SERVICE…)")
    .example("$0 auth echo", "authorize the echo bot's account with OAuth")
    .example("$0 check echo", "check the echo bot's settings and login, step by step")
    .example("$0 dev echo", "chat with the echo bot; it restarts whenever bots/echo changes")
    .example("$0 new my-bot", "start a bot project in ./my-bot (npm install && npm start)")
    .example("$0 accounts import echo accounts.jsonl", "store accounts for a fleet in Redis (BOTRUN_FLEET_REDIS, BOTRUN_FLEET_SECRET; @botrun/fleet)")
    .example("$0 fleet echo", "run a fleet worker: it shares the echo bot's accounts with the other workers")
    .example("$0 echo --http-port 9464", "run with /healthz, /readyz and /metrics on 127.0.0.1:9464")
    .epilogue("Exit codes: 0 stopped cleanly, 1 internal error (restart), 2 configuration error (fix it), 3 re-authorization needed (run botrun auth), 4 server unreachable at start (retry).")
    .strict()
    .version(pkg.version)
    .help()
    .alias("h", "help")
    .alias("v", "version")
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  if (args.length === 0) {
    // No bot named: the usage, not yargs' "Not enough non-option arguments".
    process.stderr.write((await parser.getHelp()) + "\n");
    return ExitCode.CONFIG;
  }
  try {
    await parser.parseAsync();
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`botrun: ${error.message}\nRun "botrun --help" for usage.\n`);
      return ExitCode.CONFIG;
    }
    process.stderr.write(oneLine(flagError ?? error) + "\n");
    return errorExitCode(flagError ?? error);
  }
  return code;
}

/** `--http-port`: a port number, else the one-line configuration error (exit 2). */
function portFlag(value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError("--http-port", "a port number from 0 (any free port) to 65535", String(value));
  return n;
}

/** `--env-file`: each file must exist (checked before any bot loads). */
function envFilesFlag(files: string[], cwd: string): string[] {
  for (const f of files) {
    if (!existsSync(path.resolve(cwd, f))) throw new ConfigError("--env-file", "an existing .env file", path.resolve(cwd, f));
  }
  return files;
}

/**
 * `botrun accounts …` and `botrun fleet …` live in @botrun/fleet, imported only when one of them
 * runs (nobody else pays for it). The specifier is not a literal: core does not depend on the fleet.
 */
async function runFleetCommand(args: string[], cwd: string): Promise<number> {
  const spec = "@botrun/fleet";
  let fleet: { fleetMain(args: string[], deps: object): Promise<number> };
  try {
    fleet = (await import(spec)) as typeof fleet;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw error;
    process.stderr.write(`botrun ${args[0]}: needs the @botrun/fleet package (npm install @botrun/fleet)\n`);
    return ExitCode.CONFIG;
  }
  return fleet.fleetMain(args, { cwd, loadBot, botEnv, errorExitCode, oneLine });
}

/** Wrong command-line usage (missing or unknown arguments). */
class UsageError extends Error {
  override readonly name = "UsageError";
}
