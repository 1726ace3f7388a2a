/**
 * Spawns the real `botrun` executable (`node packages/core/bin/botrun.mjs ...`), or another
 * script under the same loader, with a clean environment, collects its stderr/stdout lines, and lets tests wait for a line or for the exit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stopChild } from "../../env/proc.ts";

/** The repository root (where `bots/` lives). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = fileURLToPath(new URL("../../../packages/core/bin/botrun.mjs", import.meta.url));

/** A running botrun process. */
export interface BotrunProcess {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  /** All output lines (stderr and stdout), in arrival order. */
  lines: string[];
  /** Resolve with the first line (past or future) matching `re` after index `from`; reject on timeout or exit. */
  waitLine(re: RegExp, timeoutMs: number, from?: number): Promise<string>;
  /** Resolves with the exit code (signal exits give -1). */
  exited: Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of `startBotrun`. */
export interface StartBotrunOptions {
  /** Another checkout to run `botrun` from (its `packages/core/bin/botrun.mjs`, cwd = that root): benchmarks compare revisions. */
  root?: string;
  /** Run this script with `node --import tsx` instead of `botrun` (ARGS are passed to it). */
  script?: string;
  /** Extra `node` options (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

/** Start `botrun ARGS` in the repository root with exactly `env` (plus PATH/HOME). */
export function startBotrun(args: string[], env: Record<string, string>, opts: StartBotrunOptions = {}): BotrunProcess {
  const startedAt = Date.now();
  const root = opts.root ?? REPO_ROOT;
  const argv = [...(opts.nodeArgs ?? []), ...opts.script ? ["--conditions=@botrun/source", "--import", "tsx", opts.script, ...args] : [opts.root ? join(root, "packages/core/bin/botrun.mjs") : BIN, ...args]];
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  const push = (l: string) => {
    lines.push(l);
    for (const f of [...listeners]) f();
  };
  createInterface({ input: child.stderr! }).on("line", push);
  createInterface({ input: child.stdout! }).on("line", push);
  let code: number | undefined;
  // "close", not "exit": every line the process wrote has been read by then.
  const exited = new Promise<number>((resolve) =>
    child.on("close", (c) => {
      code = c ?? -1;
      resolve(code);
      for (const f of [...listeners]) f();
    }),
  );
  return {
    child,
    pid: child.pid ?? 0,
    startedAt,
    lines,
    exited,
    waitLine(re, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.slice(from).find((l) => re.test(l));
          if (hit !== undefined) {
            done();
            resolve(hit);
          } else if (code !== undefined) {
            done();
            reject(new Error(`botrun exited (${code}) before a line matching ${re}:\n${lines.slice(-15).join("\n")}`));
          }
        };
        const t = setTimeout(() => {
          done();
          reject(new Error(`no line matching ${re} within ${timeoutMs} ms:\n${lines.slice(-15).join("\n")}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(t);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    stop: (graceMs = 10_000) => stopChild(child, graceMs),
  };
}
