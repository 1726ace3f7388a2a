// Start-up (issue 10.8): `botrun <bot>` loads only what its run needs. Recorded from the real
// executable with a module-loader hook: no yargs, prom-client, Redis client or tsx CommonJS hook for
// a piped terminal chat with an ES-module bot; yargs appears with --help and prom-client with
// --http-port (the recorder sees them). (The bot's `@botrun/core` import loads the whole public index.)
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { botrun, ROOT } from "./helpers/botrun-cli.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "botrun-loads-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const RECORDER = path.join(ROOT, "test/offline/fixtures/record-loads.mjs");

/** Run botrun with the recorder; resolves with its exit code and the modules it loaded. */
async function loads(name: string, args: string[], input = "") {
  const file = path.join(tmp, `${name}.txt`);
  const r = await botrun(args, { input, env: { RECORD_LOADS: file, NODE_OPTIONS: `--import ${RECORDER}` } });
  return { ...r, modules: readFileSync(file, "utf8") };
}

const LAZY = {
  yargs: /\/yargs@/,
  "prom-client": /\/prom-client@/,
  ioredis: /\/ioredis@/,
  "tsx's CommonJS hook": /\/tsx@[^/]+\/node_modules\/tsx\/dist\/cjs\//,
};

describe("botrun start-up loads only what the run needs", () => {
  it("piped terminal chat with the echo bot: none of the lazy parts; --help loads yargs, --http-port prom-client", async () => {
    const [plain, help, http] = await Promise.all([
      loads("plain", ["echo"], "hi\n"),
      loads("help", ["--help"]),
      loads("http", ["echo", "--http-port", "0", "--log-level", "warn"], "hi\n"),
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe("hi\n");
    for (const [what, re] of Object.entries(LAZY)) expect(re.test(plain.modules), `${what} loaded`).toBe(false);
    expect(help.modules).toMatch(LAZY.yargs);
    expect(http.code, http.stderr).toBe(0);
    expect(http.modules).toMatch(LAZY["prom-client"]);
    expect(http.stderr).toBe("");
  });
});
