/**
 * redis-server (Debian's package) for tests: 127.0.0.1 on a free port, no persistence, started
 * in the foreground and stopped by its PID.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./proc.ts";

/** A running redis-server. */
export interface RedisServer {
  port: number;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Start redis-server; resolves once it accepts connections (its log says so). */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child: ChildProcess = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no", "--dir", mkdtempSync(join(tmpdir(), "botrun-redis-"))], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${out}`));
    };
    const timer = setTimeout(() => {
      child.off("exit", early);
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not start:\n${out}`));
    }, 15_000);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("exit", early);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        child.off("exit", early); // only our own listener: Node's internal ones stay
        resolve();
      }
    });
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
