// The real `botrun` executable, spawned: help, usage, version, list, flag and load errors, unknown
// bots, loading bots by path, no input without a server, and the terminal chat with piped input.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, botrun, ROOT } from "./helpers/botrun-cli.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "botrun-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("botrun CLI", () => {
  it("--help lists usage, commands and exit codes", async () => {
    const r = await botrun(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: botrun <bot\.\.\.>/);
    expect(r.stdout).toMatch(/botrun auth <bot>/);
    expect(r.stdout).toMatch(/Exit codes:/);
  });

  it("--version prints the core package version", async () => {
    const r = await botrun(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("an unknown bot gives one line listing the bots it can see, and exit code 2", async () => {
    const r = await botrun(["no-such-bot"]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/unknown bot "no-such-bot"\. Bots found: .*echo/);
  });

  it("no arguments at all prints the usage, exit code 2", async () => {
    const r = await botrun([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Usage: botrun <bot\.\.\.>/);
    expect(r.stderr).toMatch(/botrun new <dir>/);
  });

  it("list shows each bot with its description", async () => {
    const r = await botrun(["list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^echo +\S.*\n/m);
    expect(r.stdout).toMatch(/^notes +Keeps notes/m);
  });

  it("a bad --http-port is one line naming the flag, exit 2", async () => {
    const r = await botrun(["echo", "--http-port", "99999"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('botrun: --http-port: expected a port number from 0 (any free port) to 65535 (got "99999")\n');
  });

  it("a missing --env-file is one line naming the flag, exit 2 (run as an executable: Node 20 reads --env-file itself otherwise)", async () => {
    const missing = path.join(tmp, "missing.env");
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(BIN, ["echo", "--env-file", missing], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code, stderr }));
      child.stdin.end();
    });
    expect(r.stderr).toBe(`botrun: --env-file: expected an existing .env file (got ${JSON.stringify(missing)})\n`);
    expect(r.code).toBe(2);
  });

  it("no server configured and no input (stdin /dev/null, as under a service manager): says so, exit 2", async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(XMPP_|OAUTH_|BOTRUN_)/.test(k)));
        const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code, stderr }));
      });
    const r = await run(["echo"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^botrun: XMPP_SERVICE: expected a server: none is configured and there is no terminal or input for the terminal chat/);
    expect((await run(["echo", "--console"])).code).toBe(0); // asked for explicitly: ends at end of input
  });

  it("a bot with a syntax error: file:line:column, the message and a code frame, exit 2", async () => {
    const file = path.join(tmp, "broken.mjs");
    writeFileSync(file, 'export default {\n  name: "broken",,\n};\n');
    const r = await botrun([file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^botrun: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:2:\\d+: Unexpected token ','\n`));
    expect(r.stderr).toContain('> 2 |   name: "broken",,\n');
  });

  it("a bot that throws while loading: the line it threw at (source-mapped for TypeScript) and a code frame, exit 1", async () => {
    const file = path.join(ROOT, "test/offline/fixtures", `.throws-${process.pid}.ts`); // beside @botrun/core's resolution
    writeFileSync(file, 'import { Bot } from "@botrun/core";\n\nconst settings: { port: number } = JSON.parse("{oops");\nexport default new Bot({ name: "x" });\n');
    try {
      const r = await botrun([file]);
      expect(r.code).toBe(1);
      expect(r.stderr.split("\n")[0]).toMatch(new RegExp(`^botrun: .*\\.throws-${process.pid}\\.ts:3:\\d+: SyntaxError: .*JSON`));
      expect(r.stderr).toContain('> 3 | const settings: { port: number } = JSON.parse("{oops");');
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("a wrong setting names the setting and exits 2", async () => {
    const r = await botrun(["echo"], { env: { XMPP_SERVICE: "xmpp://127.0.0.1:1", XMPP_MECHANISM: "FOO" } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/XMPP_MECHANISM: expected one of auto, X-MESSENGER-OAUTH2, SCRAM-SHA-512-PLUS, .*, SCRAM-SHA-1, PLAIN/);
  });

  it("piped input: each line is a message, each reply a line, exit 0 at end of input", async () => {
    const r = await botrun(["echo"], { input: "hi\nthere\n!ping\n" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("hi\nthere\npong\n");
  });

  it("piped input: many lines, all replies printed in order before exit", async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i}`);
    const r = await botrun(["echo"], { input: lines.join("\n") + "\n" });
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n")).toEqual(lines);
  });

  it("loads a TypeScript bot file by relative or absolute path, with no build step", async () => {
    const rel = await botrun(["test/offline/fixtures/shout-bot.ts"], { input: "hello\n" });
    expect(rel.stderr).toBe("");
    expect(rel.stdout).toBe("HELLO\n");
    const abs = await botrun([path.join(ROOT, "test/offline/fixtures/shout-bot.ts")], { input: "again\n", cwd: tmp });
    expect(abs.stdout).toBe("AGAIN\n");
  });

  it("loads a bot folder by path and an installed package by name", async () => {
    const dir = await botrun(["./bots/echo"], { input: "folder\n" });
    expect(dir.stdout).toBe("folder\n");
    const pkg = await botrun(["@botrun/bot-echo"], { input: "package\n", cwd: path.join(ROOT, "test") });
    expect(pkg.stdout).toBe("package\n");
  });

  it("a file that does not export a bot is refused with a clear line", async () => {
    const r = await botrun(["test/offline/fixtures/not-a-bot.ts"], { input: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not export a bot/);
  });

  it("a handler that throws does not stop the bot; later lines are answered", async () => {
    const r = await botrun(["test/offline/fixtures/flaky-bot.ts"], { input: "boom\nok\n", env: { BOTRUN_LOG_LEVEL: "error" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("fine: ok\n");
    expect(r.stderr).toMatch(/handler failed/);
  });

  it("console commands: /as changes the sender, /room speaks in a group chat", async () => {
    const r = await botrun(["test/offline/fixtures/whoami-bot.ts"], {
      input: "hi\n/as bob@example.org\nhi\n/room lobby@conference.console.local\nhi\n",
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("chat you@console.local\nchat bob@example.org\ngroupchat lobby@conference.console.local bob\n");
  });
});
