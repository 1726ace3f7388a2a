// `botrun dev`: the real CLI restarts the bot when its file changes, keeps taking input (lines
// sent after a restart reach the new bot), waits out a broken edit, and exits 0 at end of input.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, expect, it } from "vitest";
import { BIN, ROOT } from "./helpers/botrun-cli.ts";

// Under test/ so that @botrun/core resolves (test/node_modules); test/.tmp is git-ignored.
const dir = path.join(ROOT, "test/.tmp", `dev-${process.pid}`);
const file = path.join(dir, "bot.ts");
const version = (v: string) =>
  `import { Bot } from "@botrun/core";\nconst bot = new Bot({ name: "dev" });\nbot.on("message:body", (ctx) => ctx.reply("${v}: " + ctx.text));\nexport default bot;\n`;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("restarts on a change, keeps the chat's input, survives a broken edit", async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, version("v1"));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(XMPP_|OAUTH_|BOTRUN_)/.test(k)));
  const child = spawn(process.execPath, [BIN, "dev", dir], { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const push = (l: string) => {
    lines.push(l);
    for (const w of [...waiters]) w();
  };
  createInterface({ input: child.stdout }).on("line", (l) => push(`out ${l}`));
  createInterface({ input: child.stderr }).on("line", (l) => push(`err ${l}`));
  const exited = new Promise<number | null>((r) => child.on("close", r));
  let seen = 0;
  /** The next line (after those already waited for) that matches. */
  const next = (re: RegExp) =>
    new Promise<string>((resolve) => {
      const check = () => {
        const i = lines.findIndex((l, n) => n >= seen && re.test(l));
        if (i < 0) return;
        waiters.delete(check);
        seen = i + 1;
        resolve(lines[i]!);
      };
      waiters.add(check);
      check();
    });

  await next(/^err botrun dev: watching/);
  child.stdin.write("hi\n");
  expect(await next(/^out /)).toBe("out v1: hi");

  writeFileSync(file, version("v2"));
  await next(/^err botrun dev: restarted/);
  child.stdin.write("hi\n");
  expect(await next(/^out /)).toBe("out v2: hi");

  writeFileSync(file, "export default {;\n");
  expect(await next(/^err botrun dev: the bot exited/)).toBe("err botrun dev: the bot exited with code 2; waiting for a change");
  child.stdin.write("queued\n"); // no bot running: held for the next one
  writeFileSync(file, version("v3"));
  await next(/^err botrun dev: restarted/);
  expect(await next(/^out /)).toBe("out v3: queued");

  child.stdin.end();
  expect(await exited).toBe(0);
  expect(lines).toContain(`err botrun: ${file}:1:17: Expected identifier but found ";"`); // the broken edit, pointed at
}, 60_000);
