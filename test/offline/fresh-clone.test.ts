// A fresh clone with habitual commands: `pnpm install` with the pinned pnpm 10 and with the current
// pnpm 12 (neither switches versions nor rewrites the lockfile), then `pnpm exec botrun echo`.
// The lockfile carries the native binaries other platforms need. Files are copied from this
// working tree (what git tracks, plus new files not ignored), not from HEAD.
import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/botrun-cli.ts";

const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|pnpm_|XMPP_|OAUTH_|BOTRUN_)/i.test(k)));
const tmp = mkdtempSync(path.join(tmpdir(), "botrun-clone-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the checkout's files, without node_modules. */
function cloneTo(dir: string): void {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).split("\0");
  for (const f of files) {
    if (!f || !existsSync(path.join(ROOT, f))) continue;
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    cpSync(path.join(ROOT, f), path.join(dir, f));
  }
}

function run(cmd: string, args: string[], cwd: string, input = ""): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd, env, maxBuffer: 16 << 20, timeout: 180_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, out: `${stdout}${stderr}` }),
    );
    child.stdin?.end(input);
  });
}

describe("a fresh clone", () => {
  it("the lockfile has vitest's rollup binaries for macOS and Windows", () => {
    const lock = readFileSync(path.join(ROOT, "pnpm-lock.yaml"), "utf8");
    for (const p of ["@rollup/rollup-darwin-arm64", "@rollup/rollup-darwin-x64", "@rollup/rollup-win32-x64-msvc", "@rollup/rollup-linux-x64-gnu"]) {
      expect(lock).toMatch(new RegExp(`^  '${p}@`, "m"));
    }
  });

  for (const pnpm of ["pnpm@10.34.8", "pnpm@12"]) {
    it.concurrent(`${pnpm} install, then pnpm exec botrun echo`, async () => {
      const dir = path.join(tmp, pnpm);
      cloneTo(dir);
      const install = await run("npx", ["-y", pnpm, "install"], dir);
      expect(install.out).not.toMatch(/ERR_PNPM|WARN.*Cannot use the pnpm version/);
      expect(install.code).toBe(0);
      expect(readFileSync(path.join(dir, "pnpm-lock.yaml"), "utf8")).toBe(readFileSync(path.join(ROOT, "pnpm-lock.yaml"), "utf8"));
      expect(existsSync(path.join(dir, "node_modules/@botrun/plugins/package.json"))).toBe(true); // bots/<new>/ resolves it
      const chat = await run("npx", ["-y", pnpm, "exec", "botrun", "echo"], dir, "hi\n");
      expect(chat.out).toBe("hi\n");
      expect(chat.code).toBe(0);
    }, 240_000);
  }
});
