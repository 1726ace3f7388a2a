/**
 * Finding and loading a bot: a folder name under `bots/`, a path to a `.ts`/`.js` file or
 * folder, or an installed package name. TypeScript loads directly: compiled in-process by esbuild
 * (cached), or through tsx (registered for ES modules and CommonJS) when the bot needs it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isBot, type Bot } from "../bot.ts";
import type { Context } from "../context.ts";
import { BOTRUN_VERSION } from "../iq/version.ts";
import { describeLoadError } from "./bot-load-error.ts";
import { compileBot } from "./compile-bot.ts";

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
  return describeBots(cwd).map((b) => b.name);
}

/** The bots under the `bots/` folders visible from `cwd`, each with a one-line description. */
export function describeBots(cwd: string): { name: string; description: string }[] {
  const found = new Map<string, string>();
  for (const dir of botDirs(cwd)) {
    for (const name of readdirSync(dir)) {
      const entry = found.has(name) || name.startsWith(".") ? undefined : entryOf(path.join(dir, name));
      if (entry) found.set(name, descriptionOf(path.join(dir, name), entry));
    }
  }
  return [...found].sort(([a], [b]) => a.localeCompare(b)).map(([name, description]) => ({ name, description }));
}

/** package.json's description, else the entry file's first comment line. */
function descriptionOf(dir: string, entry: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { description?: unknown };
    if (typeof pkg.description === "string" && pkg.description) return pkg.description;
  } catch {
    /* no package.json: the file's comment */
  }
  try {
    const first = readFileSync(entry, "utf8").split("\n", 1)[0] ?? "";
    return /^\s*(?:\/\/|\/\*\*?)\s*(.*?)\s*(?:\*\/)?\s*$/.exec(first)?.[1] ?? "";
  } catch {
    return "";
  }
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
  let target = file;
  if (/\.[cm]?tsx?$/.test(file)) target = await typeScriptTarget(file);
  let mod: { default?: unknown; bot?: unknown };
  try {
    mod = (await import(pathToFileURL(target).href)) as typeof mod;
  } catch (error) {
    // Node names the compiled file in its messages ("imported from …"): the user knows the bot's.
    if (target !== file && error instanceof Error) error.message = error.message.replaceAll(target, file);
    const missing = /Cannot find (?:module|package) '(@botrun\/[a-z-]+)/.exec(error instanceof Error ? error.message : "")?.[1];
    if (missing) {
      throw new BotNotFoundError(`botrun: ${file} imports ${missing}, which is not installed there: run \`npm install ${missing}\` in the bot's project (or start one with \`botrun new <dir>\`)`);
    }
    throw describeLoadError(error, file) ?? error;
  }
  let value = mod.default ?? mod.bot;
  if (typeof value === "function" && !isBot(value)) value = await (value as () => unknown)();
  if (!isBot(value)) {
    throw new BotNotFoundError(`botrun: ${file} does not export a bot: its default export must be a Bot (new Bot({ name }))`);
  }
  return { bot: value as Bot<Context>, file, dir: path.dirname(file) };
}

/**
 * The file to import for TypeScript bot `file`: when tsx is not running already, the bot compiled
 * by esbuild (compile-bot.ts; stack traces source-mapped to the .ts lines), else — or when the bot
 * needs it — the bot itself, through tsx's loader hooks.
 */
async function typeScriptTarget(file: string): Promise<string> {
  // From the sources (the botrun workspace, e.g. under vitest) @botrun/* must resolve to their
  // sources too, which plain Node importing a compiled bundle would not do (it would load dist/).
  const fromSources = import.meta.url.endsWith(".ts");
  if (!fromSources && !(globalThis as { [TSX_REGISTERED]?: Set<string> })[TSX_REGISTERED]?.has("esm")) {
    // A first start's esbuild build runs in esbuild's own process meanwhile.
    const compiling = compileBot(file, BOTRUN_VERSION);
    compiling.catch(() => {}); // awaited below, after the import
    // What a bot imports (@botrun/core's index, with the XMPP transport) loads first: before the
    // loader's hooks thread, which every later module goes through, or before source maps are on,
    // which makes Node read the map of every later module (start-up time).
    await import("../index.ts");
    const compiled = await compiling;
    if (compiled) {
      process.setSourceMapsEnabled(true);
      return compiled;
    }
  }
  await registerTypeScript(file);
  return file;
}

/** Which tsx hooks are registered; shared with bin/botrun.mjs, which registers the ESM one to run the sources. */
const TSX_REGISTERED = Symbol.for("botrun.tsx");

/**
 * Registers tsx for ES modules and, unless the bot is an ES module by its package scope, CommonJS
 * (once; loaded only for a TypeScript bot). The CommonJS hook matters for a bot.ts without
 * `"type": "module"` nearby: Node would otherwise fail with "Cannot require() ES Module … in a
 * cycle". A bot in a `"type": "module"` package (or a .mts file) skips it (start-up time).
 */
async function registerTypeScript(file: string): Promise<void> {
  const g = globalThis as { [TSX_REGISTERED]?: Set<string> };
  const done = (g[TSX_REGISTERED] ??= new Set());
  if (!done.has("esm")) (await import("tsx/esm/api")).register();
  done.add("esm");
  if (!done.has("cjs") && !isEsmScope(file)) {
    (await import("tsx/cjs/api")).register();
    done.add("cjs");
  }
}

/** True when Node treats `file` as an ES module: a .mts file, or a .ts file whose nearest package.json says `"type": "module"`. */
function isEsmScope(file: string): boolean {
  if (/\.mtsx?$/.test(file)) return true;
  if (/\.ctsx?$/.test(file)) return false;
  for (let d = path.dirname(file); ; d = path.dirname(d)) {
    const pkgFile = path.join(d, "package.json");
    if (existsSync(pkgFile)) {
      try {
        return (JSON.parse(readFileSync(pkgFile, "utf8")) as { type?: unknown }).type === "module";
      } catch {
        return false;
      }
    }
    if (path.dirname(d) === d) return false;
  }
}
