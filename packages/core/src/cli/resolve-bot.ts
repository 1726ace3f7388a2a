/**
 * Finding and loading a bot: a folder name under `bots/`, a path to a `.ts`/`.js` file or
 * folder, or an installed package name. TypeScript loads directly (the CLI registers tsx).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isBot, type Bot } from "../bot.ts";
import type { Context } from "../context.ts";

/** A bot that could not be found or loaded; the message is one line for the user. */
export class BotNotFoundError extends Error {
  override readonly name = "BotNotFoundError";
}

/** A loaded bot and where it came from. */
export interface LoadedBot {
  bot: Bot<Context>;
  /** The file that was imported. */
  file: string;
  /** The bot's folder (its `.env` is read from here). */
  dir: string;
}

const ENTRY_NAMES = ["bot.ts", "index.ts", "bot.js", "index.js", "bot.mjs", "index.mjs"];
const HERE = path.dirname(fileURLToPath(import.meta.url));

/** `bots/` folders to search: walking up from `cwd`, then the one beside this installation. */
export function botDirs(cwd: string): string[] {
  const dirs: string[] = [];
  for (let d = path.resolve(cwd); ; d = path.dirname(d)) {
    const candidate = path.join(d, "bots");
    if (existsSync(candidate) && statSync(candidate).isDirectory()) dirs.push(candidate);
    if (path.dirname(d) === d) break;
  }
  const own = path.resolve(HERE, "../../../../bots");
  if (existsSync(own) && !dirs.includes(own)) dirs.push(own);
  return dirs;
}

/** Names of the bots under the `bots/` folders visible from `cwd`. */
export function listBots(cwd: string): string[] {
  const names = new Set<string>();
  for (const dir of botDirs(cwd)) {
    for (const name of readdirSync(dir)) {
      if (entryOf(path.join(dir, name))) names.add(name);
    }
  }
  return [...names].sort();
}

/** The file to import for a bot folder, or undefined. */
function entryOf(dir: string): string | undefined {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return undefined;
  const pkgFile = path.join(dir, "package.json");
  if (existsSync(pkgFile)) {
    try {
      const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as { main?: string; exports?: unknown };
      const exp = pkg.exports;
      const main =
        typeof exp === "string" ? exp : typeof exp === "object" && exp && typeof (exp as Record<string, unknown>)["."] === "string" ? ((exp as Record<string, string>)["."]) : pkg.main;
      if (main && existsSync(path.join(dir, main))) return path.join(dir, main);
    } catch {
      /* fall through to conventional names */
    }
  }
  for (const n of ENTRY_NAMES) if (existsSync(path.join(dir, n))) return path.join(dir, n);
  return undefined;
}

/** Resolve `spec` to a file to import. */
export function resolveBotFile(spec: string, cwd: string): string {
  const looksLikePath = spec.startsWith(".") || spec.startsWith("/") || /\.(ts|mts|js|mjs)$/.test(spec);
  const asPath = path.resolve(cwd, spec);
  if (existsSync(asPath)) {
    if (statSync(asPath).isFile()) return asPath;
    const entry = entryOf(asPath);
    if (entry) return entry;
    throw new BotNotFoundError(`botrun: "${spec}" is a folder without a bot entry (expected one of ${ENTRY_NAMES.join(", ")} or package.json "main")`);
  }
  if (!looksLikePath) {
    for (const dir of botDirs(cwd)) {
      const entry = entryOf(path.join(dir, spec));
      if (entry) return entry;
    }
    const require = createRequire(path.join(cwd, "package.json"));
    for (const name of [spec, `@botrun/bot-${spec}`, `botrun-bot-${spec}`]) {
      try {
        return require.resolve(name);
      } catch {
        /* try the next name */
      }
    }
  }
  const known = listBots(cwd);
  throw new BotNotFoundError(
    `botrun: unknown bot "${spec}". ${known.length ? `Bots found: ${known.join(", ")}` : "No bots/ folder found"}; or give a path to a bot file or an installed package name.`,
  );
}

/** Import a bot. Its module's default export (or `bot` export) must be a `Bot`, or a function returning one. */
export async function loadBot(spec: string, cwd = process.cwd()): Promise<LoadedBot> {
  const file = resolveBotFile(spec, cwd);
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown; bot?: unknown };
  let value = mod.default ?? mod.bot;
  if (typeof value === "function" && !isBot(value)) value = await (value as () => unknown)();
  if (!isBot(value)) {
    throw new BotNotFoundError(`botrun: ${file} does not export a bot: its default export must be a Bot (new Bot({ name }))`);
  }
  return { bot: value as Bot<Context>, file, dir: path.dirname(file) };
}
