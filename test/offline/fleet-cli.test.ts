// `botrun accounts` / `botrun fleet` through the real executable: the CLI loads @botrun/fleet only
// for them, and the fleet refuses to start without BOTRUN_FLEET_SECRET (one line, exit 2). The
// other setting checks run in-process in packages/fleet/src/cli.test.ts.
import { describe, expect, it } from "vitest";
import { botrun } from "./helpers/botrun-cli.ts";

describe("botrun fleet commands (spawned)", () => {
  it("no BOTRUN_FLEET_SECRET: one line naming it, exit 2; --help lists the accounts subcommands", async () => {
    const [r, help] = await Promise.all([botrun(["fleet", "echo"], { env: { BOTRUN_FLEET_REDIS: "redis://127.0.0.1:1/0" } }), botrun(["accounts", "--help"])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^botrun: BOTRUN_FLEET_SECRET: expected a secret to encrypt credentials[^\n]*\n$/);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/accounts import <bot> <file>[\s\S]*accounts list <bot>[\s\S]*accounts remove <bot> <jid>/);
  });
});
