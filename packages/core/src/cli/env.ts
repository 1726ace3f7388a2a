/**
 * Per-bot environment: the process environment, `.env` files, and per-bot prefixes.
 * Precedence, highest first: `<BOT>_NAME` variables, the real environment, `--env-file`
 * files, the bot folder's `.env`, the working directory's `.env`. With several bots in one
 * process, `ECHO_XMPP_SERVICE` configures bot `echo` only.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "dotenv";
import { ConfigError } from "../config/errors.ts";

/** An environment map. */
export type Env = Record<string, string | undefined>;

/** The prefix for a bot's own variables: `rooms-helper` → `ROOMS_HELPER_`. */
export function envPrefix(botName: string): string {
  return botName.toUpperCase().replace(/[^A-Z0-9]+/g, "_") + "_";
}

function readEnvFile(file: string): Env {
  if (!existsSync(file)) return {};
  return parse(readFileSync(file));
}

/** Build the environment a bot sees. */
export function botEnv(opts: { botName: string; botDir: string; cwd: string; envFiles?: string[]; env?: Env }): Env {
  const base = opts.env ?? process.env;
  const merged: Env = {
    ...readEnvFile(path.join(opts.cwd, ".env")),
    ...(path.resolve(opts.botDir) !== path.resolve(opts.cwd) ? readEnvFile(path.join(opts.botDir, ".env")) : {}),
  };
  for (const f of opts.envFiles ?? []) {
    const file = path.resolve(opts.cwd, f);
    if (!existsSync(file)) throw new ConfigError("--env-file", "an existing .env file", file);
    Object.assign(merged, readEnvFile(file));
  }
  Object.assign(merged, base);
  const prefix = envPrefix(opts.botName);
  for (const [k, v] of Object.entries(merged)) {
    if (k.startsWith(prefix) && /^(XMPP|OAUTH|BOTRUN)_/.test(k.slice(prefix.length))) merged[k.slice(prefix.length)] = v;
  }
  return merged;
}
