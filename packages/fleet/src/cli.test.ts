import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ConfigError, defineBot, ExitCode } from "@botrun/core";
import { fleetMain, type FleetCliDeps } from "./cli.ts";

const SECRET = { BOTRUN_FLEET_SECRET: "offline-fleet-secret-0123456789" };
/** Nothing listens there: a command that got past its checks would try to connect instead. */
const REDIS = { BOTRUN_FLEET_REDIS: "redis://127.0.0.1:1/0" };

let stderr = "";
let tmp = "";
beforeEach(() => {
  stderr = "";
  tmp = mkdtempSync(path.join(tmpdir(), "fleet-cli-"));
  vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(tmp, { recursive: true, force: true });
});

/** `fleetMain` with a stub bot loader and these settings as the bot's environment. */
const run = (args: string[], env: Record<string, string>) => {
  const deps: FleetCliDeps = {
    cwd: tmp,
    loadBot: async () => ({ bot: defineBot({ name: "echo" }), dir: tmp }),
    botEnv: () => ({ ...env }),
    errorExitCode: (e) => (e instanceof ConfigError ? ExitCode.CONFIG : ((e as { exitCode?: number }).exitCode ?? ExitCode.FAILURE)),
    oneLine: (e) => `botrun: ${(e as Error).message}`,
  };
  return fleetMain(args, deps);
};

describe("botrun accounts / fleet: a wrong setting or an unreachable Redis is one line naming it (exit 2, or 4)", () => {
  it("no BOTRUN_FLEET_SECRET: the fleet refuses to start", async () => {
    for (const args of [["fleet", "echo"], ["accounts", "list", "echo"]]) {
      stderr = "";
      expect(await run(args, REDIS)).toBe(2);
      expect(stderr).toMatch(/^botrun: BOTRUN_FLEET_SECRET: expected a secret to encrypt credentials[^\n]*\n$/);
    }
  });

  it("no BOTRUN_FLEET_REDIS, or not a redis:// URL", async () => {
    expect(await run(["fleet", "echo"], SECRET)).toBe(2);
    expect(stderr).toMatch(/^botrun: BOTRUN_FLEET_REDIS: expected the fleet's Redis URL .*--redis/);
    stderr = "";
    expect(await run(["accounts", "list", "echo", "--redis", "http://x"], SECRET)).toBe(2);
    expect(stderr).toMatch(/^botrun: BOTRUN_FLEET_REDIS: expected a redis:\/\/ or rediss:\/\/ URL/);
  });

  it.each([
    ["BOTRUN_FLEET_LEASE_TTL", "0.1"],
    ["BOTRUN_FLEET_LOGIN_RATE", "fast"],
    ["BOTRUN_FLEET_REFRESH_ABANDON", "10"],
    ["BOTRUN_WORKER_ID", "a b"],
    ["BOTRUN_LOG_LEVEL", "loud"],
  ])("%s=%s", async (k, v) => {
    expect(await run(["fleet", "echo"], { ...SECRET, ...REDIS, [k]: v })).toBe(2);
    expect(stderr).toMatch(new RegExp(`^botrun: ${k}: expected`));
  });

  it("an account file with a bad line: the line is named, no secret is echoed; a missing file is named", async () => {
    const f = path.join(tmp, "bad.jsonl");
    writeFileSync(f, '{"jid":"a@example.org","password":"pw-1"}\n{"jid":"b@example.org","password":"hunter2-secret","refreshToken":"rt-secret"}\n');
    expect(await run(["accounts", "import", "echo", f], { ...SECRET, ...REDIS })).toBe(2);
    expect(stderr).toContain(`${f} line 2: expected exactly one of "refreshToken" or "password" for b@example.org`);
    expect(stderr).not.toMatch(/hunter2|rt-secret|pw-1/);
    stderr = "";
    expect(await run(["accounts", "import", "echo", path.join(tmp, "nope.jsonl")], { ...SECRET, ...REDIS })).toBe(2);
    expect(stderr).toMatch(/<file>: expected a readable JSON-lines file .*ENOENT/);
  });

  it("usage errors point to --help", async () => {
    expect(await run(["accounts"], {})).toBe(2);
    expect(stderr).toMatch(/^botrun accounts: name a subcommand: import, list or remove\nRun "botrun accounts --help"/);
    stderr = "";
    expect(await run(["fleet"], {})).toBe(2);
    expect(stderr).toMatch(/^botrun fleet: Not enough non-option arguments/);
  });

  it("Redis unreachable: one line naming BOTRUN_FLEET_REDIS and the cause, exit 4 (retry later)", async () => {
    for (const args of [["accounts", "list", "echo"], ["fleet", "echo"]]) {
      stderr = "";
      expect(await run(args, { ...SECRET, ...REDIS })).toBe(4);
      expect(stderr).toMatch(/^botrun: BOTRUN_FLEET_REDIS: cannot reach Redis \(ECONNREFUSED\); check the URL, or retry later\n$/);
    }
  });
});
