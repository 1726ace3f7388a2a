// The hot path's argument parser: `botrun <bot...> [--console|--xmpp] [--debug] [--http-port N] …`
// parsed without loading yargs (start-up time). Anything else (a command, --help, an unknown or
// repeated-in-conflict flag) returns undefined and goes through yargs, which owns usage and errors.

/** The options of a plain `botrun <bot...>` run, as the yargs `$0` command would give them. */
export interface RunArgs {
  bots: string[];
  console: boolean;
  xmpp: boolean;
  debug: boolean;
  envFiles: string[];
  logLevel?: string;
  httpPort?: string;
  httpHost?: string;
}

/** Words that yargs treats as commands when they come first. */
const COMMANDS = new Set(["auth", "check", "list", "dev", "new", "accounts", "fleet", "help", "version", "completion"]);
const BOOLEAN = new Set(["console", "xmpp", "debug"]);
const STRING = new Set(["http-port", "http-host", "env-file", "log-level"]);

/**
 * Parse `args` if it is a plain run; undefined when yargs should parse it instead. Values are not
 * validated here (the caller checks them exactly as the yargs path does).
 */
export function parseRunArgs(args: readonly string[], levels: readonly string[]): RunArgs | undefined {
  if (args.length === 0 || COMMANDS.has(args[0]!)) return undefined;
  const out: RunArgs = { bots: [], console: false, xmpp: false, debug: false, envFiles: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-")) {
      out.bots.push(a);
      continue;
    }
    if (!a.startsWith("--") || a === "--") return undefined;
    const eq = a.indexOf("=");
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (BOOLEAN.has(name)) {
      if (eq >= 0) return undefined; // --debug=false and the like: yargs' rules
      out[name as "console" | "xmpp" | "debug"] = true;
      continue;
    }
    if (!STRING.has(name)) return undefined;
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else {
      value = args[i + 1];
      if (value === undefined || value.startsWith("-")) return undefined;
      i++;
    }
    if (name === "env-file") {
      // yargs' array option takes every following word too (`--env-file a.env echo`): its rules.
      const next = args[i + 1];
      if (eq < 0 && next !== undefined && !next.startsWith("-")) return undefined;
      out.envFiles.push(value);
    }
    else if (name === "log-level") {
      if (out.logLevel !== undefined || !levels.includes(value)) return undefined;
      out.logLevel = value;
    } else if (name === "http-port") {
      if (out.httpPort !== undefined) return undefined;
      out.httpPort = value;
    } else {
      if (out.httpHost !== undefined) return undefined;
      out.httpHost = value;
    }
  }
  if (out.bots.length === 0 || (out.console && out.xmpp)) return undefined;
  return out;
}
