// A redis-server for the fleet fault suites that can be restarted on the same port with its data
// kept (append-only file, fsync always, in its own temp dir), as a production fleet's Redis would be.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./proc.ts";

/** A restartable redis-server. */
export interface DurableRedis {
  port: number;
  url: string;
  pid(): number | undefined;
  /** SIGTERM, wait for the exit, start again on the same port; resolves once it accepts connections. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Start a durable redis-server on 127.0.0.1. */
export async function startDurableRedis(): Promise<DurableRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "fleet-redis-"));
  let child: ChildProcess | undefined;
  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always"], { stdio: ["ignore", "pipe", "pipe"] });
      child = c;
      let out = "";
      const timer = setTimeout(() => {
        c.kill("SIGKILL");
        reject(new Error(`redis-server did not start:\n${out}`));
      }, 15_000);
      const early = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${out}`));
      };
      c.once("exit", early);
      c.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("Ready to accept connections")) {
          clearTimeout(timer);
          c.off("exit", early);
          resolve();
        }
      });
    });
  const halt = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once("exit", () => r()));
    c.kill("SIGTERM");
    const t = setTimeout(() => c.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    pid: () => child?.pid,
    async restart() {
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
