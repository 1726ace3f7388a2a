// Spawning the real `botrun` executable for offline end-to-end tests: a clean environment
// (no XMPP_/OAUTH_/BOTRUN_ settings leak in), stdin piped, all output captured.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
/** The `botrun` executable. */
export const BIN = path.join(ROOT, "packages/core/bin/botrun.mjs");

const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(XMPP_|OAUTH_|BOTRUN_)/.test(k)));

/** Run `botrun args…` with `input` on stdin; resolves with the exit code and everything printed. */
export function botrun(args: string[], opts: { input?: string; cwd?: string; env?: Record<string, string> } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...cleanEnv, NODE_ENV: "production", ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}
