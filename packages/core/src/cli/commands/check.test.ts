// `botrun check` against a scripted token endpoint (node:http on 127.0.0.1): token-endpoint
// failures are their own step ("token"), with the exit code of their kind (transient 4, consent 3,
// a redirecting endpoint 2), never labelled TLS, and no step is reported both ok and failed.
import net from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TransientAuthError } from "../../auth/errors.ts";
import { startTokenServer, type TestTokenServer } from "../../../test-support/token-server.ts";
import { silentLogger } from "../../logger.ts";
import { classifyError } from "../../xmpp/errors.ts";
import { runCheck } from "./check.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../..");
const RT = "check-refresh-token-7Hq/+";
let tokens: TestTokenServer;
let closedPort: number;

beforeEach(async () => {
  tokens = await startTokenServer(() => ({ status: 200, json: { access_token: "check-access-token-1", expires_in: 3600 } }));
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  closedPort = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
});
afterEach(() => tokens.close());

async function check(extra: Record<string, string> = {}): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runCheck({
    bot: "echo",
    cwd: ROOT,
    logger: silentLogger,
    out: (l) => lines.push(l),
    env: {
      PATH: process.env.PATH,
      XMPP_SERVICE: `xmpp://127.0.0.1:${closedPort}`,
      XMPP_DOMAIN: "localhost",
      XMPP_MECHANISM: "X-MESSENGER-OAUTH2",
      OAUTH_TOKEN_URL: tokens.url,
      OAUTH_CLIENT_ID: "check-client",
      OAUTH_REFRESH_TOKEN: RT,
      BOTRUN_TOKEN_STORE: "memory:",
      ...extra,
    },
  });
  // No step is both ok and failed; no secret is printed.
  const passed = lines.filter((l) => / (ok|off)\b/.test(l)).map((l) => l.split(/ ok| off/)[0]!.split(" ")[0]);
  const failed = lines.filter((l) => / failed: /.test(l)).map((l) => l.split(" ")[0]);
  for (const f of failed) expect(passed, lines.join("\n")).not.toContain(f);
  expect(lines.join("\n")).not.toContain(RT);
  return { code, lines };
}

describe("botrun check: the token step", () => {
  it("token endpoint unreachable: `token failed`, exit 4, nothing about TLS", async () => {
    const dead = await startTokenServer(() => ({ status: 200 }));
    const url = dead.url;
    await dead.close();
    const { code, lines } = await check({ OAUTH_TOKEN_URL: url });
    expect(lines[0]).toMatch(/^config ok/);
    expect(lines[1]).toMatch(/^token failed: .*unreachable/);
    expect(lines).toHaveLength(2);
    expect(lines.join("\n")).not.toMatch(/TLS/);
    expect(code).toBe(4);
  });

  it("HTTP 503: transient, exit 4", async () => {
    tokens.handler = () => ({ status: 503, body: "busy" });
    const { code, lines } = await check();
    expect(lines.at(-1)).toMatch(/^token failed: .*HTTP 503/);
    expect(code).toBe(4);
  });

  it("invalid_grant: consent gone, exit 3 with the `botrun auth` hint", async () => {
    tokens.handler = () => ({ status: 400, json: { error: "invalid_grant", error_description: `bad ${encodeURIComponent(RT)}` } });
    const { code, lines } = await check();
    expect(lines.at(-1)).toMatch(/^token failed: .*invalid_grant.*botrun auth echo/);
    expect(code).toBe(3);
  });

  it("a redirecting token endpoint: configuration, exit 2, naming OAUTH_TOKEN_URL", async () => {
    tokens.handler = () => ({ status: 307, headers: { location: "https://elsewhere.example/token" } });
    const { code, lines } = await check();
    expect(lines.at(-1)).toMatch(/^token failed: OAUTH_TOKEN_URL: .*HTTP 307.*https:\/\/elsewhere\.example/);
    expect(code).toBe(2);
  });

  it("token ok, then the next failing step is the server's (TCP), exit 4", async () => {
    const { code, lines } = await check();
    expect(lines.map((l) => l.split(/[ :]/)[0])).toEqual(["config", "token", "DNS/SRV", "TCP"]);
    expect(lines[1]).toMatch(/^token ok: access token obtained, valid for 3\d{3} s$/);
    expect(lines[3]).toMatch(/^TCP failed: .*ECONNREFUSED/);
    expect(code).toBe(4);
  });

  it("the transport classifies a transient token-endpoint error as step `token` (not TLS)", () => {
    const e = classifyError(new TransientAuthError("token endpoint x unreachable (UNABLE_TO_VERIFY_LEAF_SIGNATURE, TLS)", "network"), "TLS");
    expect(e.step).toBe("token");
    expect(e.exitCode).toBe(4);
  });
});
