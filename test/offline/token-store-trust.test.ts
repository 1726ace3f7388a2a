// The real `botrun` CLI with a token store other local users could tamper with: a world-writable
// store directory, or a token file that belongs to someone else, stops the bot before it connects
// with one line naming the path and the fix (chmod/chown), exit 2; the planted token is not used.
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { botrun } from "./helpers/botrun-cli.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botrun-trust-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = (store: string) => ({
  XMPP_SERVICE: "xmpp://127.0.0.1:1",
  XMPP_DOMAIN: "localhost",
  XMPP_MECHANISM: "X-MESSENGER-OAUTH2",
  OAUTH_TOKEN_URL: "http://127.0.0.1:1/token",
  OAUTH_CLIENT_ID: "client",
  BOTRUN_TOKEN_STORE: store,
  BOTRUN_LOG_LEVEL: "silent",
});

describe("botrun refuses an unsafe token store", () => {
  it("a world-writable store directory: exit 2 before connecting, one line with the path and chmod 700", async () => {
    writeFileSync(path.join(dir, "echo.json"), JSON.stringify({ refreshToken: "RT-planted-by-someone" }), { mode: 0o600 });
    chmodSync(dir, 0o777);
    const r = await botrun(["echo"], { env: env(dir) });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`chmod 700 ${dir}`);
    expect(lines[0]).toContain("BOTRUN_TOKEN_STORE");
    expect(r.stderr + r.stdout).not.toContain("RT-planted-by-someone");
  });

  it.skipIf(process.getuid?.() !== 0)("a token file owned by another user: exit 2, naming the file and chown", async () => {
    const file = path.join(dir, "echo.json");
    writeFileSync(file, JSON.stringify({ refreshToken: "RT-of-uid-65534" }), { mode: 0o600 });
    chownSync(file, 65534, 65534);
    const r = await botrun(["echo"], { env: env(dir) });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.]/g, "\\.")} belongs to uid 65534.*chown`));
    expect(r.stderr + r.stdout).not.toContain("RT-of-uid-65534");
  });
});
