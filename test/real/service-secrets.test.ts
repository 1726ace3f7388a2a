// A full session through the real `botrun` process (spawned) against real Prosody and the real
// OAuth server: login by X-MESSENGER-OAUTH2, echo traffic, token refreshes (4 s access tokens,
// so the server also ends sessions at expiry and the bot reconnects), a failed refresh while the
// token endpoint is down, recovery, --debug stanza trace on, JSON logs and the metrics endpoint.
// ALL stdout/stderr is then searched for every access token, refresh token, the password and the
// client secret, raw and percent-, form-, base64- or JSON-encoded: none may appear.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretForms } from "../../packages/core/src/logger.ts";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { startOAuthServer, type OAuthServerHandle } from "../env/oauth-server.ts";
import { freePort, pidAlive } from "../env/proc.ts";
import { EchoPeer } from "./helpers/echo-peer.ts";
import { readyz, scrape, spawnBotrun, waitUntil, type BotrunProcess } from "../soak/botrun-process.ts";

let oauth: OAuthServerHandle;
let prosody: ProsodyHandle;
let store: string;
const pids: number[] = [];
const PEER_PW = "peer-password-1";
const BOT_PW = "bot-password-Zq8-never-logged";

beforeAll(async () => {
  oauth = await startOAuthServer({ accessTtl: 4, tokenStyle: "base64" });
  prosody = await startProsody({
    oauth: { introspectionUrl: oauth.introspectionUrl, clientId: oauth.introspectionClientId, clientSecret: oauth.introspectionClientSecret },
  });
  pids.push(prosody.pid);
  await prosody.register("bot", BOT_PW);
  await prosody.register("alice", PEER_PW);
  store = mkdtempSync(path.join(tmpdir(), "botrun-secrets-"));
});

afterAll(async () => {
  await prosody?.stop();
  await oauth?.stop();
  rmSync(store, { recursive: true, force: true });
  for (const pid of pids) expect(pidAlive(pid), `process ${pid} left behind`).toBe(false);
});

/** Every token value in the token store files. */
function storedTokens(dir: string, into: Set<string>): void {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) {
      storedTokens(file, into);
      continue;
    }
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/"(accessToken|refreshToken)"\s*:\s*"([^"]+)"/g)) into.add(m[2]!);
  }
}

/** Send `n` messages and wait for all echoes; sessions end every 4 s, so resend what is outstanding. */
async function roundTrips(peer: EchoPeer, n: number): Promise<void> {
  for (let i = 0; i < n; i++) peer.send();
  for (let round = 0; ; round++) {
    try {
      await peer.waitAllEchoed(3000);
      return;
    } catch (error) {
      if (round >= 10) throw error;
      peer.resendOutstanding();
    }
  }
}

describe("botrun as a service: secrets never reach the output", () => {
  it("login, refreshes, a failed refresh, recovery, --debug: no token, password or client secret in stdout/stderr", async () => {
    const initial = await oauth.issueTokens("bot", { accessTtl: 4, style: "base64" });
    const secrets = new Set<string>([initial.accessToken, initial.refreshToken, oauth.clientSecret, BOT_PW]);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const bot: BotrunProcess = spawnBotrun(["echo", "--debug", "--http-port", String(port)], {
      XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
      XMPP_DOMAIN: "localhost",
      XMPP_USERNAME: "bot",
      XMPP_PASSWORD: BOT_PW,
      XMPP_MECHANISM: "X-MESSENGER-OAUTH2",
      XMPP_CA_FILE: prosody.caFile,
      XMPP_RECONNECT_BASE_DELAY: "0.2",
      XMPP_RECONNECT_MAX_DELAY: "1",
      OAUTH_TOKEN_URL: oauth.tokenUrl,
      OAUTH_CLIENT_ID: oauth.clientId,
      OAUTH_CLIENT_SECRET: oauth.clientSecret,
      OAUTH_REFRESH_TOKEN: initial.refreshToken,
      BOTRUN_TOKEN_STORE: store,
      BOTRUN_LOG_FORMAT: "json",
    });
    pids.push(bot.child.pid!);
    const collect = setInterval(() => {
      try {
        storedTokens(store, secrets);
      } catch {
        /* a file being renamed */
      }
    }, 100);
    let peer: EchoPeer | undefined;
    try {
      const what = () => `bot (output tail: ${bot.output().slice(-1500)})`;
      await waitUntil(async () => (await readyz(url))?.status === 200, 30_000, what);
      peer = await EchoPeer.start({
        host: "127.0.0.1", directTlsPort: prosody.directTlsPort, domain: "localhost",
        username: "alice", password: PEER_PW, caFile: prosody.caFile, bot: "bot@localhost",
      });
      await roundTrips(peer, 5);

      // Refreshes (the token lives 4 s) and the reconnects the server's expiry forces.
      const m = (k: string) => async () => (await scrape(url)).get(k) ?? 0;
      const refreshes = m('botrun_token_refreshes_total{bot="echo"}');
      await waitUntil(async () => (await refreshes()) >= 2, 30_000, () => "two token refreshes");

      // A failed refresh: the token endpoint answers 503 for a while.
      oauth.setDown(true);
      const failures = m('botrun_token_refresh_failures_total{bot="echo",permanent="false"}');
      await waitUntil(async () => (await failures()) >= 1, 30_000, () => "a failed refresh");
      oauth.setDown(false);
      const before = await refreshes();
      await waitUntil(async () => (await refreshes()) > before, 30_000, () => "a refresh after the outage");
      await waitUntil(async () => (await readyz(url))?.status === 200, 30_000, what);
      await roundTrips(peer, 5);
    } finally {
      await peer?.stop();
      const code = await bot.stop();
      clearInterval(collect);
      if (process.env.BOTRUN_TEST_DUMP) (await import("node:fs")).writeFileSync(process.env.BOTRUN_TEST_DUMP, bot.output());
      storedTokens(store, secrets);
      expect(code).toBe(0);
    }

    const out = bot.output();
    // The session really happened, with the trace on and JSON logs.
    expect(out).toMatch(/"msg":"online"/);
    expect(out).toMatch(/xmpp-trace/);
    expect(out).toMatch(/X-MESSENGER-OAUTH2/);
    expect(out).toMatch(/"level":"debug"/);
    // More than the seed: refreshed tokens were collected too.
    expect(secrets.size).toBeGreaterThan(6);
    // In any encoding: raw, percent-, form-, base64(url)- or JSON-escaped.
    const leaked = [...secrets].filter((s) => secretForms(s).some((f) => out.includes(f)));
    expect(leaked.map((s) => `${s.slice(0, 3)}… (${s.length} chars)`)).toEqual([]);
  });
});
