/** Tests of how `botrun auth` picks the device flow and its endpoints (settings, RFC 8414 metadata), against a local server. */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runAuthCommand, type AuthCommandOptions } from "../cli/commands/auth.ts";
import type { DeviceClock } from "./device.ts";
import { MemoryTokenStore } from "./memory-store.ts";
import { startTokenServer, type TestTokenServer } from "../../test-support/token-server.ts";

let server: TestTokenServer;
let base: string;
let dir: string;
const clock: DeviceClock = { now: () => 0, sleep: async () => undefined };

beforeEach(async () => {
  server = await startTokenServer((req) => {
    if (req.path === "/.well-known/oauth-authorization-server") {
      return { status: 200, json: { issuer: base, token_endpoint: `${base}/md-token`, authorization_endpoint: `${base}/authorize`, device_authorization_endpoint: `${base}/md-device` } };
    }
    if (req.path.endsWith("device")) return { status: 200, json: { device_code: "DC", user_code: "UC-1", verification_uri: `${base}/verify`, expires_in: 60, interval: 1 } };
    return { status: 200, json: { access_token: `AT from ${req.path}`, refresh_token: "RT-1", expires_in: 3600 } };
  });
  base = server.url.replace(/\/token$/, "");
  dir = mkdtempSync(path.join(tmpdir(), "botrun-device-cmd-"));
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function auth(env: Record<string, string>, extra: Partial<AuthCommandOptions> = {}) {
  const lines: string[] = [];
  const done = runAuthCommand({
    botName: "echo",
    env: { OAUTH_CLIENT_ID: "app", BOTRUN_TOKEN_STORE: dir, ...env },
    interactive: false,
    input: null,
    opener: false,
    clock,
    output: (l) => lines.push(l),
    ...extra,
  });
  return { lines, done };
}

const paths = () => server.requests.map((r) => r.path);

describe("botrun auth: choosing the device flow", () => {
  it("OAUTH_ISSUER alone: endpoints from the metadata, the device flow without a terminal, tokens in a 0600 file", async () => {
    const { lines, done } = auth({ OAUTH_ISSUER: base });
    const result = await done;
    expect(result.via).toBe("device");
    expect(paths()).toEqual(["/.well-known/oauth-authorization-server", "/md-device", "/md-token"]);
    const file = path.join(dir, "echo.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toContain("AT from /md-token");
    expect(lines).toContain(`The bot refreshes them at ${base}/md-token: set OAUTH_TOKEN_URL=${base}/md-token in its environment.`);
  });

  it("explicit OAUTH_TOKEN_URL and OAUTH_DEVICE_URL win over the metadata", async () => {
    const { lines, done } = auth({ OAUTH_ISSUER: base, OAUTH_TOKEN_URL: `${base}/token`, OAUTH_DEVICE_URL: `${base}/my-device` });
    await done;
    expect(paths()).toEqual(["/.well-known/oauth-authorization-server", "/my-device", "/token"]);
    expect(lines.some((l) => l.includes("set OAUTH_TOKEN_URL"))).toBe(false);
  });

  it("OAUTH_DEVICE_URL without an issuer; the tokens go to an injected store (a fleet account's, later)", async () => {
    const store = new MemoryTokenStore();
    const { lines, done } = auth({ OAUTH_DEVICE_URL: `${base}/device`, OAUTH_TOKEN_URL: `${base}/token` }, { target: { store, accountKey: "bot@example.org", where: "account bot@example.org" } });
    await done;
    expect(await store.load("bot@example.org")).toMatchObject({ accessToken: "AT from /token", refreshToken: "RT-1" });
    expect(lines).toContain("Authorized echo: tokens stored in account bot@example.org.");
  });

  it("at a terminal, or with --no-device, the code flow runs even when a device endpoint is known", async () => {
    for (const extra of [{ interactive: true }, { device: false }]) {
      const ac = new AbortController();
      const seen: string[] = [];
      const output = (l: string) => {
        seen.push(l);
        if (l === "Open this URL in a browser and grant access:") ac.abort(); // the code flow's first line
      };
      const { done } = auth({ OAUTH_DEVICE_URL: `${base}/device`, OAUTH_AUTHORIZE_URL: `${base}/authorize` }, { ...extra, signal: ac.signal, output });
      expect(await done.catch((e: unknown) => e)).toMatchObject({ code: "aborted" });
      expect(seen[0]).toBe("Open this URL in a browser and grant access:");
    }
    expect(paths()).toEqual([]);
  });

  it("--device without a device endpoint: a configuration error naming OAUTH_DEVICE_URL", async () => {
    await expect(auth({}, { device: true }).done).rejects.toMatchObject({ setting: "OAUTH_DEVICE_URL" });
    await expect(auth({ OAUTH_FLAVOR: "wrap" }, { device: true }).done).rejects.toMatchObject({ setting: "OAUTH_FLAVOR" });
  });

  it("OAUTH_DEVICE_URL in clear text off loopback is refused before any request", async () => {
    await expect(auth({ OAUTH_DEVICE_URL: "http://as.example.com/device" }).done).rejects.toThrow(
      "OAUTH_DEVICE_URL must be an https:// URL (http:// is allowed on 127.0.0.1/localhost only)",
    );
    expect(paths()).toEqual([]);
  });
});
