// compile-bot.ts: a TypeScript bot compiled by esbuild into node_modules/.cache/botrun, reused
// until an input changes, tsx for what a bundle cannot serve, syntax errors with a code frame,
// and loadBot's stack traces source-mapped to the .ts lines.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BotLoadError } from "./bot-load-error.ts";
import { cacheDirFor, compileBot } from "./compile-bot.ts";
import { loadBot } from "./resolve-bot.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "botrun-compile-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A project folder with a node_modules (where the cache goes) and the given files. */
function project(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  mkdirSync(path.join(dir, "node_modules"), { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return dir;
}

describe("compileBot", () => {
  it("bundles the bot's own files into the cache beside its packages, and reuses it until an input changes", async () => {
    const dir = project("cache", {
      "bot.ts": 'import { greeting } from "./greet.ts";\nimport { Bot } from "@botrun/core";\nexport const text: string = greeting("x");\nexport default Bot;\n',
      "greet.ts": "export const greeting = (n: string): string => `hi ${n}`;\n",
    });
    const out = await compileBot(path.join(dir, "bot.ts"), "1.0.0");
    expect(out && path.dirname(out)).toBe(path.join(dir, "node_modules/.cache/botrun"));
    const code = readFileSync(out!, "utf8");
    expect(code).toContain("hi ${n}"); // the local module is in the bundle
    expect(code).toMatch(/from "@botrun\/core"/); // packages stay imports
    expect(code).toContain("sourceMappingURL=data:application/json");

    const mtime = statSync(out!).mtimeMs;
    expect(await compileBot(path.join(dir, "bot.ts"), "1.0.0")).toBe(out);
    expect(statSync(out!).mtimeMs).toBe(mtime); // warm: not rebuilt

    writeFileSync(path.join(dir, "greet.ts"), "export const greeting = (n: string): string => `hello there ${n}`;\n");
    expect(await compileBot(path.join(dir, "bot.ts"), "1.0.0")).toBe(out);
    expect(readFileSync(out!, "utf8")).toContain("hello there ${n}"); // an imported file changed: rebuilt

    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { useDefineForClassFields: false } }));
    writeFileSync(path.join(dir, "greet.ts"), "export class G { n = 1 }\nexport const greeting = (n: string): string => `hi ${n} ${new G().n}`;\n");
    await compileBot(path.join(dir, "bot.ts"), "1.0.0");
    const before = readFileSync(out!, "utf8");
    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { useDefineForClassFields: true } }));
    await compileBot(path.join(dir, "bot.ts"), "1.0.0");
    expect(readFileSync(out!, "utf8")).not.toBe(before); // the tsconfig.json changed how fields compile: rebuilt

    expect(await compileBot(path.join(dir, "bot.ts"), "2.0.0")).not.toBe(out); // another botrun version: another cache file
  });

  it("leaves to tsx a bot whose meaning a bundle would change (import.meta), also when warm", async () => {
    const dir = project("meta", { "bot.ts": "export const here: string = import.meta.url;\n" });
    expect(await compileBot(path.join(dir, "bot.ts"), "1.0.0")).toBeUndefined();
    expect(await compileBot(path.join(dir, "bot.ts"), "1.0.0")).toBeUndefined();
  });

  it("no node_modules above the bot (its imports could not resolve from a cache): tsx", async () => {
    expect(cacheDirFor("/bot.ts")).toBeUndefined();
    expect(cacheDirFor(path.join(tmp, "cache", "bot.ts"))).toBe(path.join(tmp, "cache", "node_modules", ".cache", "botrun"));
  });

  it("a cache folder it may not write (a read-only install): tsx, with no build", async () => {
    const dir = project("readonly", { "bot.ts": "export const n: number = 1;\n" });
    chmodSync(path.join(dir, "node_modules"), 0o555);
    try {
      // root may write anyway: the case only exists for other users.
      if (process.getuid?.() !== 0) expect(await compileBot(path.join(dir, "bot.ts"), "1.0.0")).toBeUndefined();
      else expect(await compileBot(path.join(dir, "bot.ts"), "1.0.0")).toMatch(/\.mjs$/);
    } finally {
      chmodSync(path.join(dir, "node_modules"), 0o755);
    }
  });

  it("a syntax error: file:line:column, esbuild's message and a code frame, exit 2", async () => {
    const dir = project("broken", { "bot.ts": 'import { Bot } from "@botrun/core";\nconst n: number = ;\nexport default new Bot({ name: "b" });\n' });
    const file = path.join(dir, "bot.ts");
    const error = (await compileBot(file, "1.0.0").catch((e: unknown) => e)) as BotLoadError;
    expect(error).toBeInstanceOf(BotLoadError);
    expect(error.message).toBe(`botrun: ${file}:2:19: Unexpected ";"`);
    expect(error.detail).toMatch(/> 2 \| const n: number = ;\n\s+\| {19}\^/);
    expect(error.exitCode).toBe(2);
  });
});

describe("loadBot with the compiled bot", () => {
  it("a bot that throws while loading points at its .ts line (source map), exit 1", async () => {
    const dir = project("throws", { "bot.ts": 'type Settings = { port: number };\n\nconst settings: Settings = JSON.parse("{oops");\nexport default settings;\n' });
    const file = path.join(dir, "bot.ts");
    const error = (await loadBot(file, dir).catch((e: unknown) => e)) as BotLoadError;
    expect(error).toBeInstanceOf(BotLoadError);
    expect(error.message).toMatch(new RegExp(`^botrun: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:\\d+: SyntaxError: .*JSON`));
    expect(error.detail).toContain('> 3 | const settings: Settings = JSON.parse("{oops");');
    expect(error.exitCode).toBe(1);
  });
});
