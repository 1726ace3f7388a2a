// `botrun` spawned against a server that accepts TCP and never answers: SIGTERM while connecting
// stops quietly and promptly with exit code 0 (no error line for the interrupted connect).
import { spawn } from "node:child_process";
import net from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const BIN = path.join(ROOT, "packages/core/bin/botrun.mjs");
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(XMPP_|OAUTH_|BOTRUN_)/.test(k)));

describe("botrun run", () => {
  it("SIGTERM during the connect: exit 0 and no error line", async () => {
    const socks = new Set<net.Socket>();
    let connected!: () => void;
    const gotConnection = new Promise<void>((r) => (connected = r));
    const srv = net.createServer((s) => {
      socks.add(s);
      s.on("error", () => {});
      connected();
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (srv.address() as net.AddressInfo).port;
      const child = spawn(process.execPath, [BIN, "echo"], {
        cwd: ROOT,
        env: {
          ...cleanEnv,
          NODE_ENV: "production",
          XMPP_SERVICE: `xmpp://127.0.0.1:${port}`,
          XMPP_DOMAIN: "localhost",
          XMPP_ACCESS_TOKEN: "tok-run-test",
          XMPP_ALLOW_INSECURE: "1",
          XMPP_CONNECT_TIMEOUT: "20",
          BOTRUN_LOG_LEVEL: "error",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      let stdout = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.stdout.on("data", (d) => (stdout += d));
      const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
      await gotConnection;
      const t0 = Date.now();
      child.kill("SIGTERM");
      const code = await exited;
      // No timer of the interrupted connect (xmpp.js waits up to 10 s for a stream header) holds the exit.
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(stderr + stdout).not.toMatch(/stopping or stopped|TransportStoppedError/);
      expect(stderr).toBe("");
      expect(code).toBe(0);
    } finally {
      for (const s of socks) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
