// The deploy files as written: example.env configures a password account (no active OAuth line
// that would switch it to X-MESSENGER-OAUTH2), and .dockerignore keeps node_modules and .env files
// out of the image. (deploy/install.sh, which the unit and the Dockerfile use, runs in pack.test.ts.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { loadConfig, loadEnvFiles } from "@botrun/core";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/botrun-cli.ts";

const exampleEnv = readFileSync(path.join(ROOT, "deploy/example.env"), "utf8");
const tmp = mkdtempSync(path.join(tmpdir(), "botrun-deploy-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The configuration an env file's text gives, read as `--env-file` reads it. */
function configOf(text: string) {
  const file = path.join(tmp, `${Math.random().toString(36).slice(2)}.env`);
  writeFileSync(file, text);
  const env: Record<string, string | undefined> = {};
  loadEnvFiles([file], env);
  return loadConfig(env);
}

describe("deploy/example.env", () => {
  it("as shipped: a password login (SCRAM, negotiated), not OAuth", () => {
    expect(configOf(exampleEnv)?.mechanism).toBe("auto");
  });

  it("its OAuth lines, once uncommented, do switch to X-MESSENGER-OAUTH2 (so they must stay commented)", () => {
    const oauth = exampleEnv.replace(/^# (OAUTH_TOKEN_URL|OAUTH_CLIENT_ID)=/gm, "$1=").replace(/^XMPP_PASSWORD=.*$/m, "");
    expect(configOf(oauth)?.mechanism).toBe("X-MESSENGER-OAUTH2");
  });
});

describe(".dockerignore", () => {
  it("excludes node_modules, builds and .env files everywhere", () => {
    const lines = readFileSync(path.join(ROOT, ".dockerignore"), "utf8").split("\n");
    for (const p of ["**/node_modules", "**/dist", ".env", "**/.env", "**/.env.*", ".git"]) expect(lines).toContain(p);
  });
});
