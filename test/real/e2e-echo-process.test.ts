// End to end: the real `botrun echo` process against Prosody + the OAuth server, with a slixmpp
// peer (a client botrun did not write) and a raw xmpp.js peer: message exchange, SIGTERM with
// replies still queued, a revoked refresh token (exit 3, no further token calls), a token endpoint
// outage (the bot rides it out), and `botrun auth echo` followed by a login with the stored tokens.
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { startOAuthServer, type OAuthServerHandle } from "../env/oauth-server.ts";
import { startPeer } from "../env/slixmpp.ts";
import { pidAlive } from "../env/proc.ts";
import { EchoPeer } from "./helpers/echo-peer.ts";
import { startBotrun, type BotrunProcess } from "./helpers/botrun-process.ts";

let oauth: OAuthServerHandle;
let prosody: ProsodyHandle;
let storeDir: string;
const pids: number[] = [];
const running: Array<{ stop(): Promise<void> }> = [];

beforeAll(async () => {
  oauth = await startOAuthServer();
  prosody = await startProsody({
    oauth: { introspectionUrl: oauth.introspectionUrl, clientId: oauth.introspectionClientId, clientSecret: oauth.introspectionClientSecret },
  });
  pids.push(prosody.pid);
  await prosody.register("bot", "bot-password-unused");
  await prosody.register("peer", "peer-password");
  storeDir = await mkdtemp(join(tmpdir(), "botrun-e2e-store-"));
});

afterAll(async () => {
  for (const r of running.reverse()) await r.stop();
  await prosody?.stop();
  await oauth?.stop();
  await rm(storeDir, { recursive: true, force: true });
  for (const pid of pids) expect(pidAlive(pid), `process ${pid} left behind`).toBe(false);
});

/** Env of the bot process; OAuth through a refresh token unless `extra` says otherwise. */
function botEnv(extra: Record<string, string>): Record<string, string> {
  return {
    XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
    XMPP_DOMAIN: "localhost",
    XMPP_CA_FILE: prosody.caFile,
    OAUTH_TOKEN_URL: oauth.tokenUrl,
    OAUTH_CLIENT_ID: oauth.clientId,
    OAUTH_CLIENT_SECRET: oauth.clientSecret,
    XMPP_RECONNECT_BASE_DELAY: "0.2",
    XMPP_RECONNECT_MAX_DELAY: "1",
    BOTRUN_LOG_LEVEL: "info",
    ...extra,
  };
}

async function startBot(extra: Record<string, string>): Promise<BotrunProcess> {
  const bot = startBotrun(["echo"], botEnv(extra));
  pids.push(bot.pid);
  running.push(bot);
  await bot.waitLine(/"component":"xmpp".*"msg":"online"/, 30_000);
  return bot;
}

async function echoPeer(prefix: string): Promise<EchoPeer> {
  const p = await EchoPeer.forProsody(prosody, prefix);
  running.push(p);
  return p;
}

describe("botrun echo (real process)", () => {
  it("exchanges messages with a slixmpp peer, then stops on SIGTERM with exit code 0", async () => {
    const { refreshToken } = await oauth.issueTokens("bot");
    const bot = await startBot({ OAUTH_REFRESH_TOKEN: refreshToken, BOTRUN_TOKEN_STORE: "memory:" });
    const peer = startPeer({
      jid: "peer@localhost", password: "peer-password", port: prosody.c2sPort, security: "starttls", caFile: prosody.caFile,
      to: "bot@localhost", count: 100, window: 5, prefix: "slix", timeoutSeconds: 60,
    });
    pids.push(peer.pid);
    running.push(peer);
    const done = await peer.waitFor("done", 70_000);
    expect(done).toMatchObject({ sent: 100, received: 100, timed_out: false });
    await peer.stop();
    bot.child.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
    expect(bot.lines.join("\n")).not.toContain(refreshToken);
  });

  // On SIGTERM the runtime pauses the transport's inbound side: what arrives afterwards is neither
  // handled nor acknowledged (XEP-0198), so Prosody stores it offline when the stream closes, and
  // the restarted bot gets it (with <delay/>). Everything the first process took, it answers
  // before exiting. So each message is answered exactly once.
  it("SIGTERM right after a burst: exit 0, queued replies flushed, every message answered once across a restart", async () => {
    const { refreshToken } = await oauth.issueTokens("bot");
    // A file store: the second process must see the refresh token the first one rotated.
    const env = { OAUTH_REFRESH_TOKEN: refreshToken, BOTRUN_TOKEN_STORE: join(storeDir, "burst"), XMPP_STOP_TIMEOUT: "10" };
    const bot = await startBot(env);
    const p = await echoPeer("burst");
    for (let i = 0; i < 300; i++) p.send();
    await p.waitFor(() => p.stats().echoed >= 1, 15_000);
    const atSignal = p.stats().echoed;
    bot.child.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
    expect(bot.lines.join("\n")).not.toMatch(/never sent|not flushed|not acknowledged/);
    const afterExit = p.stats().echoed;
    // What the first process did not take stays with the server (offline storage): a new process answers it.
    const again = await startBot(env);
    await p.waitAllEchoed(20_000);
    // Late duplicates would come right behind the last echo: give them a round trip to show up.
    p.send();
    await p.waitAllEchoed(10_000);
    const s = p.stats();
    console.log(`[sigterm] echoed ${atSignal} of 300 at SIGTERM, ${afterExit} by exit, ${s.echoed - 1} after a restart; duplicates ${s.duplicateCount}`);
    expect(s.lost).toEqual([]);
    expect(s.duplicateCount).toBe(0);
    again.child.kill("SIGTERM");
    expect(await again.exited).toBe(0);
    await p.stop();
  });

  it("refresh token revoked: exits 3 with a `botrun auth` line, and calls the token endpoint no more", async () => {
    oauth.setAccessTokenPolicy({ accessTtl: 6 });
    try {
      const { refreshToken } = await oauth.issueTokens("bot", { accessTtl: 6 });
      const store = join(storeDir, "revoke");
      const bot = await startBot({ OAUTH_REFRESH_TOKEN: refreshToken, BOTRUN_TOKEN_STORE: store });
      // Refresh tokens rotate: revoke the one the bot holds now (its next refresh is seconds away).
      const current = JSON.parse(await readFile(join(store, "echo.json"), "utf8")) as { refreshToken: string };
      await oauth.revoke(current.refreshToken);
      const before = oauth.stats.tokenRequests;
      const code = await Promise.race([bot.exited, new Promise<string>((r) => setTimeout(() => r("still running"), 30_000))]);
      expect(code, bot.lines.slice(-20).join("\n")).toBe(3);
      const line = bot.lines.find((l) => /botrun auth/.test(l));
      expect(line).toBeDefined();
      expect(line).toMatch(/invalid_grant|revoked|consent/);
      const calls = oauth.stats.tokenRequests - before;
      expect(calls).toBeGreaterThanOrEqual(1);
      expect(calls).toBeLessThanOrEqual(1);
      expect(bot.lines.join("\n")).not.toContain(current.refreshToken);
    } finally {
      oauth.setAccessTokenPolicy({ accessTtl: 3600 });
    }
  });

  it("token endpoint down for a while: the bot keeps running and recovers", async () => {
    oauth.setAccessTokenPolicy({ accessTtl: 4 });
    try {
      const { refreshToken } = await oauth.issueTokens("bot", { accessTtl: 4 });
      const bot = await startBot({ OAUTH_REFRESH_TOKEN: refreshToken, BOTRUN_TOKEN_STORE: "memory:" });
      const p = await echoPeer("down");
      oauth.setDown(true);
      const before = oauth.stats.tokenRequests;
      // Wait until the bot has hit the outage at least twice (background refresh and/or reconnect).
      const deadline = Date.now() + 20_000;
      while (oauth.stats.tokenRequests - before < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(oauth.stats.tokenRequests - before).toBeGreaterThanOrEqual(2);
      oauth.setDown(false);
      for (let i = 0; i < 20; i++) p.send();
      await p.waitAllEchoed(30_000);
      expect(p.stats().lost).toEqual([]);
      expect(bot.child.exitCode).toBeNull();
      await p.stop();
      bot.child.kill("SIGTERM");
      expect(await bot.exited).toBe(0);
    } finally {
      oauth.setAccessTokenPolicy({ accessTtl: 3600 });
      oauth.setDown(false);
    }
  });

  it("`botrun auth echo` (authorization code via the loopback callback), then the bot logs in with the stored tokens", async () => {
    const store = join(storeDir, "auth");
    const authEnv = {
      OAUTH_AUTHORIZE_URL: oauth.authorizeUrl,
      OAUTH_TOKEN_URL: oauth.tokenUrl,
      OAUTH_CLIENT_ID: oauth.clientId,
      OAUTH_CLIENT_SECRET: oauth.clientSecret,
      OAUTH_SCOPE: "openid offline_access wl.messenger",
      BOTRUN_TOKEN_STORE: store,
    };
    const auth = startBotrun(["auth", "echo", "--no-browser", "--timeout", "60"], authEnv);
    pids.push(auth.pid);
    running.push(auth);
    const urlLine = await auth.waitLine(new RegExp(oauth.authorizeUrl.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")), 20_000);
    const url = urlLine.slice(urlLine.indexOf(oauth.authorizeUrl)).split(/\s/)[0]!;
    const result = await oauth.completeAuthorization(url, { deliver: true });
    expect(result.deliveredStatus).toBe(200);
    expect(await auth.exited).toBe(0);
    await auth.waitLine(/Authorized echo/, 1000);
    const files = await readdir(store);
    expect(files.length).toBe(1);
    expect((await stat(join(store, files[0]!))).mode & 0o777).toBe(0o600);

    const before = oauth.stats.tokenRequests;
    const bot = await startBot({ BOTRUN_TOKEN_STORE: store, OAUTH_CLIENT_SECRET: oauth.clientSecret });
    expect(bot.lines.join("\n")).toMatch(/"jid":"bot@localhost\//);
    expect(oauth.stats.tokenRequests).toBeGreaterThanOrEqual(before);
    bot.child.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
  });
});
