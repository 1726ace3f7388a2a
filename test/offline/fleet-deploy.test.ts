// The fleet's deploy files as written: deploy/compose.fleet.yaml runs Redis (append-only) and two
// workers of one bot with distinct ids on the same Redis, and deploy/fleet.example.env, read as
// --env-file reads it, opens a secret box and passes every fleet setting's check once uncommented.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { loadEnvFiles } from "@botrun/core";
import { leaseTtlFrom, loginRateFrom, refreshAbandonFrom, secretBoxFromEnv } from "@botrun/fleet";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/botrun-cli.ts";

const compose = readFileSync(path.join(ROOT, "deploy/compose.fleet.yaml"), "utf8");
const tmp = mkdtempSync(path.join(tmpdir(), "fleet-deploy-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The lines of one top-level service block of the compose file. */
function service(name: string): string {
  const m = new RegExp(`^  ${name}:\\n((?:    .*\\n|\\n)+)`, "m").exec(compose);
  if (!m) throw new Error(`no service ${name}`);
  return m[1]!;
}

describe("deploy/compose.fleet.yaml", () => {
  it("Redis with append-only persistence on a volume, and two workers of the bot with their own ids on it", () => {
    expect(service("redis")).toMatch(/--appendonly", "yes"/);
    expect(service("redis")).toMatch(/redis-data:\/data/);
    const ids = ["worker-a", "worker-b"].map((w) => {
      const s = service(w);
      expect(s).toMatch(/<<: \*worker/);
      expect(s).toMatch(/BOTRUN_FLEET_REDIS: redis:\/\/redis:6379\/0/);
      return /BOTRUN_WORKER_ID: (\S+)/.exec(s)?.[1];
    });
    expect(new Set(ids).size).toBe(2);
    expect(compose).toMatch(/x-worker: &worker\n(?:  .*\n)*  command: \["fleet", "echo"\]/);
    expect(compose).toMatch(/dockerfile: deploy\/Dockerfile/);
  });
});

describe("deploy/fleet.example.env", () => {
  it("has a secret that opens a box, and every commented fleet setting passes its check when uncommented", () => {
    const file = path.join(tmp, "fleet.env");
    writeFileSync(file, readFileSync(path.join(ROOT, "deploy/fleet.example.env"), "utf8").replace(/^# (BOTRUN_FLEET_\w+=)/gm, "$1"));
    const env: Record<string, string | undefined> = {};
    loadEnvFiles([file], env);
    expect(() => secretBoxFromEnv(env)).not.toThrow();
    expect([leaseTtlFrom(env), loginRateFrom(env), refreshAbandonFrom(env)]).toEqual([8000, 20, 300_000]);
    expect(env.BOTRUN_FLEET_REDIS).toMatch(/^redis:\/\//);
  });
});
