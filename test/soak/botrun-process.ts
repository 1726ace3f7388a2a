/**
 * Test helpers for service suites: spawn the real `botrun` executable with a clean environment,
 * capture all of its stdout/stderr, scrape its /metrics and /readyz, wait on conditions (bounded),
 * and stop it by PID.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = path.join(ROOT, "packages/core/bin/botrun.mjs");

/** A running botrun process. */
export interface BotrunProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code once the process exited. */
  exited: Promise<number | null>;
  /** SIGTERM (SIGKILL after `graceMs`); resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** The process environment without botrun settings, plus `env`. */
export function cleanEnv(env: Record<string, string>): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && !/(^|_)(XMPP|OAUTH|BOTRUN)_/.test(k)),
  ) as Record<string, string>;
  return { ...base, NODE_ENV: "production", ...env };
}

/** Spawn `node bin/botrun.mjs ...args`. */
export function spawnBotrun(args: string[], env: Record<string, string>, cwd = ROOT): BotrunProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
        child.kill("SIGTERM");
        const code = await exited;
        clearTimeout(t);
        return code;
      }
      return exited;
    },
  };
}

/** Poll `cond` every `everyMs` until it is true; rejects after `timeoutMs` with `what()`. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Scrape a Prometheus endpoint: sample line (name plus labels) → value. Empty map when unreachable. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split("\n")) {
      if (!line || line.startsWith("#")) continue;
      const i = line.lastIndexOf(" ");
      m.set(line.slice(0, i), Number(line.slice(i + 1)));
    }
  } catch {
    /* not up yet */
  }
  return m;
}

/** GET /readyz: status and JSON body, or undefined when unreachable. */
export async function readyz(url: string): Promise<{ status: number; body: { ready: boolean; bots: Record<string, { state: string; jid?: string; exitCode?: number }> } } | undefined> {
  try {
    const r = await fetch(`${url}/readyz`);
    return { status: r.status, body: (await r.json()) as never };
  } catch {
    return undefined;
  }
}
