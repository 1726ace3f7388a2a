// botrun as a user gets it: `pnpm -r pack` tarballs installed with plain npm into an empty project
// (no pnpm, no workspace); plain node imports @botrun/core, a .js bot and a TypeScript bot with a
// plugin run through `npx botrun`, and `botrun new` scaffolds a project whose tests pass.
// Registry access is needed for third-party dependencies (npm's default cache makes reruns fast).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/botrun-cli.ts";

/** The pnpm the project pins (scripts/setup.sh), run through npx. */
const PNPM = ["-y", "pnpm@10.34.8"];
/** No npm_* variables from an enclosing `npm test`/pnpm run (npm_config_local_prefix would point npm at this repository). */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|pnpm_|XMPP_|OAUTH_|BOTRUN_)/i.test(k)));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command; resolves with its exit code and output (never rejects on a non-zero exit). */
function run(cmd: string, args: string[], opts: { cwd: string; input?: string; env?: Record<string, string> }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { cwd: opts.cwd, env: { ...env, ...opts.env }, maxBuffer: 64 << 20, timeout: 240_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      if (error && code === -1) reject(new Error(`${cmd} ${args.join(" ")}: ${error.message}\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
    child.stdin?.end(opts.input ?? "");
  });
}

/** Like `run`, but a non-zero exit is a test failure showing the output. */
async function ok(cmd: string, args: string[], opts: { cwd: string; input?: string; env?: Record<string, string> }): Promise<Result> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A TypeScript bot that uses a plugin (typed session). */
const TS_BOT = [
  `import { Bot, type Context } from "@botrun/core";`,
  `import { session, type SessionFlavor } from "@botrun/plugins";`,
  `type MyContext = Context & SessionFlavor<{ count: number }>;`,
  `const bot = new Bot<MyContext>({ name: "counter", commandPrefix: "!", plugins: [session({ initial: () => ({ count: 0 }) })] });`,
  `bot.command("count", (ctx) => ctx.reply(String(++ctx.session.count)));`,
  `export default bot;`,
].join("\n");

const tmp = mkdtempSync(path.join(tmpdir(), "botrun-pack-"));
const tarballs = path.join(tmp, "tarballs");
const project = path.join(tmp, "project");
let core = "";
let plugins = "";

beforeAll(async () => {
  await ok("npx", [...PNPM, "-r", "--filter", "@botrun/core", "--filter", "@botrun/plugins", "pack", "--pack-destination", tarballs], { cwd: ROOT });
  const files = readdirSync(tarballs);
  core = path.join(tarballs, files.find((f) => f.startsWith("botrun-core-"))!);
  plugins = path.join(tarballs, files.find((f) => f.startsWith("botrun-plugins-"))!);
  mkdirSync(project);
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "user-project", private: true, type: "module" }));
  await ok("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", core, plugins, "@types/node@20"], { cwd: project });
}, 300_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }), 60_000);

describe.concurrent("the packed packages", () => {
  it("ship compiled JavaScript with types and source maps, no sources or tests", async () => {
    const list = (await ok("tar", ["tzf", core], { cwd: tmp })).stdout.split("\n");
    expect(list).toContain("package/dist/index.mjs");
    expect(list).toContain("package/dist/index.d.ts");
    expect(list).toContain("package/dist/index.mjs.map");
    expect(list).toContain("package/dist/testing/index.mjs");
    expect(list).toContain("package/dist/cli/main.mjs");
    // Core runs from its esbuild bundle: tsc's per-file JavaScript is not shipped (nothing imports it).
    expect(list.filter((f) => /\.js(\.map)?$/.test(f) && f.startsWith("package/dist/"))).toEqual([]);
    expect(list).toContain("package/bin/botrun.mjs");
    expect(list.filter((f) => /^package\/(src|test-support)\/|^package\/dist\/.*(\.test\.|test-support|fake-|token-server)|tsbuildinfo/.test(f))).toEqual([]);
    expect(list).toContain("package/templates/new/bot.test.ts"); // botrun new's template
    const pluginFiles = (await ok("tar", ["tzf", plugins], { cwd: tmp })).stdout.split("\n");
    expect(pluginFiles).toContain("package/dist/index.js");
    expect(pluginFiles.filter((f) => /^package\/(src|test-support)\/|\.test\.|test-util|tsbuildinfo/.test(f))).toEqual([]);
    const manifest = JSON.parse((await ok("tar", ["xzf", plugins, "-O", "package/package.json"], { cwd: tmp })).stdout) as { dependencies: Record<string, string> };
    expect(manifest.dependencies["@botrun/core"]).toMatch(/^\d+\.\d+\.\d+/); // workspace:* replaced by the version
  });

  it("plain node imports @botrun/core and @botrun/core/testing (no TypeScript loader)", async () => {
    expect(existsSync(path.join(project, "node_modules/@botrun/core/src"))).toBe(false);
    const script = `const core = await import("@botrun/core"); const t = await import("@botrun/core/testing"); const p = await import("@botrun/plugins");
      console.log(typeof core.Bot, typeof t.createHarness, typeof p.session, process.execArgv.length);`;
    writeFileSync(path.join(project, "main.mjs"), script);
    const r = await ok("node", ["main.mjs"], { cwd: project });
    expect(r.stdout.trim()).toBe("function function function 0");
  });

  it("a .js bot runs in the terminal chat with npx botrun", async () => {
    writeFileSync(
      path.join(project, "bot.js"),
      `import { Bot } from "@botrun/core";\nconst bot = new Bot({ name: "js" });\nbot.on("message:body", (ctx) => ctx.reply("js: " + ctx.text));\nexport default bot;\n`,
    );
    const r = await ok("npx", ["--no-install", "botrun", "./bot.js"], { cwd: project, input: "hi\nthere\n" });
    expect(r.stdout).toBe("js: hi\njs: there\n");
  });

  it("npx botrun ./bot.ts runs a TypeScript bot that uses a plugin", async () => {
    writeFileSync(path.join(project, "bot.ts"), TS_BOT);
    const r = await ok("npx", ["--no-install", "botrun", "./bot.ts"], { cwd: project, input: "!count\n!count\n" });
    expect(r.stdout).toBe("1\n2\n");
  });

  it("the TypeScript bot type-checks against the packed .d.ts files (strict, no skipLibCheck)", async () => {
    const tsconfig = { compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, allowImportingTsExtensions: true, types: ["node"] }, files: ["typed.ts"] };
    writeFileSync(path.join(project, "typed.ts"), TS_BOT);
    writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(tsconfig));
    const r = await run(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: project });
    expect(r.stdout).toBe("");
    expect(r.code).toBe(0);
  }, 90_000);

  it("a syntax error in a bot shows file:line:column and a code frame, exit 2", async () => {
    writeFileSync(path.join(project, "broken.ts"), `import { Bot } from "@botrun/core";\nconst n: number = ;\nexport default new Bot({ name: "broken" });\n`);
    const r = await run("npx", ["--no-install", "botrun", "./broken.ts"], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path.join(project, "broken.ts")}:2:19: Unexpected ";"`);
    expect(r.stderr).toMatch(/> 2 \| const n: number = ;\n\s+\| {19}\^/);
  });

  it("deploy/install.sh (systemd, Dockerfile): botrun on PATH runs the repository's bots with plugins; check reads --env-file", async () => {
    const prefix = path.join(tmp, "opt/botrun");
    const bin = path.join(tmp, "bin");
    await ok("bash", [path.join(ROOT, "deploy/install.sh"), "--from", tarballs, "--prefix", prefix, "--bin", bin, "--bots", path.join(ROOT, "bots")], {
      cwd: tmp,
      env: { npm_config_prefer_offline: "true" },
    });
    expect(existsSync(path.join(prefix, "bots/notes/node_modules"))).toBe(false); // no workspace links copied
    const notes = await ok(path.join(bin, "botrun"), ["notes"], { cwd: prefix, input: "!note milk\n!notes\n" });
    expect(notes.stdout).toMatch(/1\. milk/);
    const envFile = path.join(tmp, "echo.env"); // deploy/example.env, pointed at a closed port
    writeFileSync(envFile, readFileSync(path.join(ROOT, "deploy/example.env"), "utf8").replace(/^XMPP_SERVICE=.*$/m, "XMPP_SERVICE=xmpp://127.0.0.1:1").replace(/^BOTRUN_TOKEN_STORE=.*$/m, "BOTRUN_TOKEN_STORE=memory:"));
    const check = await run(path.join(bin, "botrun"), ["check", "echo", "--env-file", envFile], { cwd: prefix });
    expect(check.stdout).toMatch(/^config ok: echo as echo@example\.org/m);
    expect(check.stdout).toMatch(/^TCP failed: ECONNREFUSED/m);
    expect(check.code).toBe(4);
  }, 120_000);

  /** `botrun new <name>` from the installed CLI; its @botrun dependencies then point at the tarballs (not published yet). */
  async function scaffold(name: string): Promise<string> {
    await ok("npx", ["--no-install", "botrun", "new", name], { cwd: project });
    const app = path.join(project, name);
    const pkgFile = path.join(app, "package.json");
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as { dependencies: Record<string, string> };
    const version = (JSON.parse(readFileSync(path.join(project, "node_modules/@botrun/core/package.json"), "utf8")) as { version: string }).version;
    expect(pkg.dependencies).toEqual({ "@botrun/core": `^${version}`, "@botrun/plugins": `^${version}` });
    for (const f of ["bot.ts", "bot.test.ts", ".env.example", "README.md", ".gitignore"]) expect(existsSync(path.join(app, f))).toBe(true);
    pkg.dependencies = { "@botrun/core": `file:${core}`, "@botrun/plugins": `file:${plugins}` };
    writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
    return app;
  }

  it("botrun new scaffolds a project whose tests pass and that chats in the terminal, with npm and with pnpm", async () => {
    const withNpm = async () => {
      const app = await scaffold("my-bot");
      await ok("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: app });
      const test = await ok("npm", ["test"], { cwd: app });
      expect(test.stdout.replace(/\x1b\[[0-9;]*m/g, "")).toMatch(/Tests\s+2 passed/);
      const chat = await ok("npx", ["--no-install", "botrun", "."], { cwd: app, input: "hi\n" });
      expect(chat.stdout).toBe("you said: hi\n");
    };
    const withPnpm = async () => {
      const app = await scaffold("pnpm-bot");
      // pnpm does not let a root file: dependency stand in for @botrun/plugins' own "@botrun/core": "<version>".
      writeFileSync(path.join(app, "pnpm-workspace.yaml"), `${readFileSync(path.join(app, "pnpm-workspace.yaml"), "utf8")}overrides:\n  "@botrun/core": "file:${core}"\n`);
      await ok("npx", ["-y", "pnpm@12", "install", "--prefer-offline"], { cwd: app });
      const test = await ok("npx", ["-y", "pnpm@12", "test"], { cwd: app });
      expect(test.stdout.replace(/\x1b\[[0-9;]*m/g, "")).toMatch(/Tests\s+2 passed/);
      const chat = await ok("npx", ["-y", "pnpm@12", "exec", "botrun", "."], { cwd: app, input: "!hello\n" });
      expect(chat.stdout).toBe("hello, you@console.local\n");
    };
    await Promise.all([withNpm(), withPnpm()]);
  }, 240_000);
});
