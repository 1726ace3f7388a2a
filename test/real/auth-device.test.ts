// `botrun auth` with the RFC 8628 device authorization grant against the real OAuth server
// (oidc-provider's deviceFlow, endpoints found through its RFC 8414 metadata): approve (the real
// CLI, no terminal, so the device flow is chosen by itself; the stored tokens then log a bot in
// through X-MESSENGER-OAUTH2 on real Prosody and refresh), deny (exit code 3), expiry, and
// slow_down (the next poll waits 5 s more, as the server enforces).
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenProvider, createXmppTransport, ExitCode, loadConfig } from "@botrun/core";
import { runAuthCommand } from "../../packages/core/src/cli/commands/auth.ts";
import { startOAuthServer, type OAuthServerHandle } from "../env/oauth-server.ts";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { pidAlive } from "../env/proc.ts";
import { startBotrun } from "./helpers/botrun-process.ts";
import { captureLogger } from "./helpers/echo-runtime.ts";

let oauth: OAuthServerHandle;
let prosody: ProsodyHandle;
let dir: string;
const pids: number[] = [];
const SCOPE = "openid offline_access wl.messenger";

beforeAll(async () => {
  oauth = await startOAuthServer({ device: { interval: 1 } });
  prosody = await startProsody({
    oauth: { introspectionUrl: oauth.introspectionUrl, clientId: oauth.introspectionClientId, clientSecret: oauth.introspectionClientSecret },
  });
  pids.push(prosody.pid);
  await prosody.register("bot", "unused-password-1");
  dir = mkdtempSync(path.join(tmpdir(), "botrun-device-"));
});

afterAll(async () => {
  await prosody?.stop();
  await oauth?.stop();
  rmSync(dir, { recursive: true, force: true });
  for (const pid of pids) expect(pidAlive(pid), `process ${pid} left behind`).toBe(false);
});

/** Only the issuer: token and device endpoints come from its metadata. */
const authEnv = (store: string): Record<string, string> => ({
  OAUTH_ISSUER: oauth.issuer,
  OAUTH_CLIENT_ID: oauth.clientId,
  OAUTH_CLIENT_SECRET: oauth.clientSecret,
  OAUTH_SCOPE: SCOPE,
  BOTRUN_TOKEN_STORE: store,
});

/** The server's answers to the device-code polls since index `from`. */
const answers = (from: number) => oauth.device.polls.slice(from).map((p) => p.answer);

/** Run `runAuthCommand` in-process (device flow, no terminal); `onLine` sees each output line. */
function authInProcess(store: string, onLine: (line: string) => void = () => undefined) {
  const lines: string[] = [];
  const done = runAuthCommand({
    botName: "echo",
    env: authEnv(store),
    interactive: false,
    output: (l) => {
      lines.push(l);
      onLine(l);
    },
  });
  return { lines, done };
}

const userCodeIn = (line: string) => /^and enter the code: (\S+)$/.exec(line)?.[1];

describe("botrun auth --device on the real OAuth server", () => {
  it("approve: the real CLI without a terminal uses the device flow; the stored tokens log a bot in on Prosody and refresh", async () => {
    const store = path.join(dir, "approve");
    const firstPoll = oauth.device.polls.length;
    const bot = startBotrun(["auth", "echo"], authEnv(store));
    pids.push(bot.pid);
    const userCode = userCodeIn(await bot.waitLine(/^and enter the code: /, 30_000))!;
    expect(bot.lines).toContain(`  ${oauth.issuer}/device`);
    // The next line may come in a later read than the code's: wait for it.
    expect(await bot.waitLine(/^Or open this link/, 30_000)).toBe(`Or open this link, which carries the code: ${oauth.issuer}/device?user_code=${userCode}`);
    await bot.waitLine(/^authorization_pending: not approved yet; asking again every 1 s$/, 30_000);
    await oauth.device.approve(userCode);
    expect(await bot.exited).toBe(ExitCode.OK);
    expect(bot.lines).toContain(`Authorized echo: tokens stored in ${path.join(store, "echo.json")}.`);
    expect(bot.lines).toContain(`The bot refreshes them at ${oauth.tokenUrl}: set OAUTH_TOKEN_URL=${oauth.tokenUrl} in its environment.`);

    // Never faster than the interval: the server answers slow_down to an early poll; none came.
    const polls = oauth.device.polls.slice(firstPoll);
    expect(answers(firstPoll)).not.toContain("slow_down");
    expect(polls.at(-1)!.answer).toBe("tokens");
    for (let i = 1; i < polls.length; i++) expect(polls[i]!.at - polls[i - 1]!.at).toBeGreaterThanOrEqual(950);

    // Stored exactly as the code flow stores: one 0600 JSON file with both tokens.
    const file = path.join(store, "echo.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, "utf8")) as { tokens?: { accessToken?: string; refreshToken?: string }; accessToken?: string; refreshToken?: string };
    const tokens = saved.tokens ?? saved;
    expect(tokens.accessToken).toBeTruthy();
    expect(tokens.refreshToken).toBeTruthy();
    for (const secret of [tokens.accessToken!, tokens.refreshToken!, oauth.clientSecret]) expect(bot.lines.join("\n")).not.toContain(secret);

    // The stored tokens log the bot in through X-MESSENGER-OAUTH2 (Prosody introspects them).
    const provider = createTokenProvider({ tokenUrl: oauth.tokenUrl, clientId: oauth.clientId, clientSecret: oauth.clientSecret, storeSpec: store, accountKey: "echo" });
    const env = {
      XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
      XMPP_DOMAIN: "localhost",
      XMPP_CA_FILE: prosody.caFile,
      XMPP_START_ATTEMPTS: "1",
      OAUTH_TOKEN_URL: oauth.tokenUrl,
      OAUTH_CLIENT_ID: oauth.clientId,
      BOTRUN_TOKEN_STORE: store,
    };
    const transport = createXmppTransport({ config: loadConfig(env)!, logger: captureLogger("info").logger, tokenProvider: provider });
    try {
      await transport.start();
      expect(transport.jid?.toString()).toMatch(/^bot@localhost\//);
      // The device grant's refresh token works at the token endpoint too (and is rotated).
      const before = oauth.stats.tokenRequests;
      expect(await provider.getAccessToken({ forceRefresh: true })).not.toBe(tokens.accessToken);
      expect(oauth.stats.tokenRequests).toBe(before + 1);
    } finally {
      await transport.stop();
      provider.stop?.();
    }
  });

  it("deny: one line naming access_denied, exit code 3, nothing stored", async () => {
    const store = path.join(dir, "deny");
    const bot = startBotrun(["auth", "echo", "--device"], authEnv(store));
    pids.push(bot.pid);
    const userCode = userCodeIn(await bot.waitLine(/^and enter the code: /, 30_000))!;
    await oauth.device.deny(userCode);
    expect(await bot.exited).toBe(ExitCode.REAUTH);
    expect(bot.lines).toContain("botrun auth: access_denied: the request for echo was declined on the verification page");
    expect(() => statSync(path.join(store, "echo.json"))).toThrow();
  });

  it("expiry: the server's expired_token (or the code's own expires_in) ends it with one line", async () => {
    oauth.device.codeTtl = 2;
    try {
      const from = oauth.device.polls.length;
      const { lines, done } = authInProcess(path.join(dir, "expire"));
      const err = await done.catch((e: unknown) => e);
      expect(err).toMatchObject({ name: "AuthorizationError", code: "expired_token" });
      expect((err as Error).message).toMatch(/^the code \S+ expired before it was approved: run `botrun auth echo --device` again$/);
      expect(lines).toContain("Waiting for approval (the code expires in 2 s)...");
      // Polled about once a second until the code lived out its two seconds, and then stopped.
      expect(answers(from).length).toBeGreaterThanOrEqual(1);
      expect(answers(from).length).toBeLessThanOrEqual(3);
      expect(answers(from)).not.toContain("slow_down");
    } finally {
      oauth.device.codeTtl = 600;
    }
  });

  it("slow_down: the next poll comes 5 s later than the interval (the server checks it)", async () => {
    const from = oauth.device.polls.length;
    oauth.device.forceSlowDown(1);
    let approved: Promise<void> | undefined;
    let userCode = "";
    const { lines, done } = authInProcess(path.join(dir, "slow"), (line) => {
      userCode = userCodeIn(line) ?? userCode;
      if (line.startsWith("slow_down:")) approved = oauth.device.approve(userCode);
    });
    const result = await done;
    await approved;
    expect(result.tokens.refreshToken).toBeTruthy();
    expect(lines).toContain("slow_down: the server asked to poll less often; now every 6 s");
    // Normally ["slow_down", "tokens"]; a slow approval may add pending polls, each 6 s apart too.
    const polls = oauth.device.polls.slice(from);
    expect(polls[0]!.answer).toBe("slow_down");
    expect(polls.at(-1)!.answer).toBe("tokens");
    expect(polls.slice(1).map((p) => p.answer)).not.toContain("slow_down");
    for (let i = 1; i < polls.length; i++) expect(polls[i]!.at - polls[i - 1]!.at).toBeGreaterThanOrEqual(6000 - 50);
  }, 20_000);
});
