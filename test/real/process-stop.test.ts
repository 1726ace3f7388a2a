// The real `botrun` process always stops: with a Redis token store (real redis-server) exit 3
// arrives after revoked consent, exit 2 for a corrupt entry, and SIGTERM/SIGHUP give exit 0, each on
// its own (no open Redis connection holding the process); and SIGTERM with a backlog of queued work ends within the
// documented budget (BOTRUN_DRAIN_TIMEOUT + XMPP_STOP_TIMEOUT + 3 s), repeated errors logged once.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Element } from "@botrun/core";
import { xml } from "@xmpp/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOAuthServer, type OAuthServerHandle } from "../env/oauth-server.ts";
import { pidAlive } from "../env/proc.ts";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { startRedis, type RedisServer } from "../env/redis.ts";
import { startBotrun, type BotrunProcess } from "./helpers/botrun-process.ts";
import { EchoPeer } from "./helpers/echo-peer.ts";

const SLOW_BOT = fileURLToPath(new URL("./fixtures/slow-bot.ts", import.meta.url));
let oauth: OAuthServerHandle;
let prosody: ProsodyHandle;
let redis: RedisServer;
const pids: number[] = [];
const running: Array<{ stop(): Promise<void> }> = [];
/** The line botrun writes when it had to exit with something still open. */
const LEFT_OPEN = /work still pending after the stop/;

beforeAll(async () => {
  [oauth, redis] = await Promise.all([startOAuthServer(), startRedis()]);
  prosody = await startProsody({
    oauth: { introspectionUrl: oauth.introspectionUrl, clientId: oauth.introspectionClientId, clientSecret: oauth.introspectionClientSecret },
  });
  pids.push(prosody.pid, redis.pid);
  await prosody.register("bot", "bot-password-stop");
  await prosody.register("peer", "peer-password");
  await prosody.register("probe", "probe-password");
});

afterAll(async () => {
  for (const r of running.reverse()) await r.stop();
  await prosody?.stop();
  await oauth?.stop();
  await redis?.stop();
  for (const pid of pids) expect(pidAlive(pid), `process ${pid} left behind`).toBe(false);
});

function start(args: string[], env: Record<string, string>): BotrunProcess {
  const p = startBotrun(args, {
    XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
    XMPP_DOMAIN: "localhost",
    XMPP_CA_FILE: prosody.caFile,
    XMPP_RECONNECT_BASE_DELAY: "0.2",
    BOTRUN_LOG_LEVEL: "info",
    BOTRUN_LOG_FORMAT: "json",
    ...env,
  });
  pids.push(p.pid);
  running.push(p);
  return p;
}

/** The echo bot on X-MESSENGER-OAUTH2 with its tokens in Redis database `db`. */
function echoWithRedis(refreshToken: string, db: number): BotrunProcess {
  return start(["echo"], {
    XMPP_MECHANISM: "X-MESSENGER-OAUTH2",
    OAUTH_TOKEN_URL: oauth.tokenUrl,
    OAUTH_CLIENT_ID: oauth.clientId,
    OAUTH_CLIENT_SECRET: oauth.clientSecret,
    OAUTH_REFRESH_TOKEN: refreshToken,
    BOTRUN_TOKEN_STORE: `redis://127.0.0.1:${redis.port}/${db}`,
  });
}

/** The exit code, or "still running" after `ms`. */
function exitWithin(p: BotrunProcess, ms: number): Promise<number | "still running"> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p.exited, new Promise<"still running">((r) => (t = setTimeout(() => r("still running"), ms)))]).finally(() => clearTimeout(t));
}

/** Ping the server on the peer's stream and wait for its answer (RFC 6120: a stream is processed in order). */
function serverPing(peer: EchoPeer): Promise<void> {
  const id = `stop-ping-${Date.now()}`;
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no answer to the server ping")), 15_000);
    peer.raw.xmpp.on("stanza", (el: Element) => {
      if (el.is("iq") && el.attrs.id === id) {
        clearTimeout(t);
        resolve();
      }
    });
    void peer.raw.xmpp.send(xml("iq", { type: "get", to: "localhost", id }, xml("ping", { xmlns: "urn:xmpp:ping" })));
  });
}

describe("botrun always exits", () => {
  it("Redis token store, consent revoked: exit 3 arrives, and the process ends on its own", async () => {
    const { refreshToken } = await oauth.issueTokens("bot");
    await oauth.revoke(refreshToken);
    const bot = echoWithRedis(refreshToken, 1);
    const code = await exitWithin(bot, 30_000);
    expect(code, bot.lines.slice(-10).join("\n")).toBe(3);
    expect(bot.lines.some((l) => /botrun auth/.test(l))).toBe(true);
    expect(bot.lines.join("\n")).not.toMatch(LEFT_OPEN);
    expect(bot.lines.join("\n")).not.toContain(refreshToken);
  });

  it("Redis token store with a corrupt entry: exit 2 before connecting, and the process ends on its own", async () => {
    execFileSync("redis-cli", ["-p", String(redis.port), "-n", "4", "SET", "botrun:tokens:echo", "{not json"]);
    const bot = echoWithRedis("unused-refresh-token", 4);
    const code = await exitWithin(bot, 20_000);
    expect(code, bot.lines.slice(-10).join("\n")).toBe(2);
    expect(bot.lines.some((l) => /BOTRUN_TOKEN_STORE/.test(l))).toBe(true);
    expect(bot.lines.join("\n")).not.toMatch(/"msg":"online"/);
  });

  for (const [signal, db] of [["SIGTERM", 2], ["SIGHUP", 3]] as const) {
    it(`Redis token store, ${signal}: graceful stop, exit 0, no connection left open`, async () => {
      const { refreshToken } = await oauth.issueTokens("bot");
      const bot = echoWithRedis(refreshToken, db);
      await bot.waitLine(/"component":"xmpp".*"msg":"online"/, 30_000);
      // One echo: the bot is fully up (what it asked the server at login has been answered).
      const peer = await EchoPeer.forProsody(prosody, `sig${db}`);
      running.push(peer);
      peer.send();
      await peer.waitAllEchoed(15_000);
      const from = bot.lines.length;
      bot.child.kill(signal);
      const t0 = Date.now();
      expect(await exitWithin(bot, 20_000), bot.lines.slice(-10).join("\n")).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      const after = bot.lines.slice(from).join("\n");
      expect(after).toMatch(new RegExp(`"signal":"${signal}".*"msg":"stopping"`));
      expect(after).not.toMatch(LEFT_OPEN);
    });
  }

  it("SIGTERM with a backlog of queued work: exit 0 within the stop budget, repeated errors logged once", async () => {
    const bot = start([SLOW_BOT], { XMPP_USERNAME: "bot", XMPP_PASSWORD: "bot-password-stop", BOTRUN_DRAIN_TIMEOUT: "2", XMPP_STOP_TIMEOUT: "2" });
    await bot.waitLine(/"component":"xmpp".*"msg":"online"/, 30_000);
    const slow = await EchoPeer.forProsody(prosody, "slow");
    running.push(slow);
    const probe = await EchoPeer.start({
      host: "127.0.0.1", directTlsPort: prosody.directTlsPort, domain: "localhost",
      username: "probe", password: "probe-password", caFile: prosody.caFile, bot: "bot@localhost", prefix: "probe",
    });
    running.push(probe);
    // 100 messages × 500 ms: a 50 s backlog in one chat.
    for (let i = 0; i < 100; i++) slow.send();
    // Once the server answers a ping on the same stream, it has routed all 100 to the bot; the
    // probe's message follows them on the bot's stream, and its echo proves the bot has them all.
    await serverPing(slow);
    probe.send();
    await probe.waitAllEchoed(15_000);
    const from = bot.lines.length;
    const t0 = Date.now();
    bot.child.kill("SIGTERM");
    const code = await exitWithin(bot, 30_000);
    const elapsed = Date.now() - t0;
    const after = bot.lines.slice(from);
    expect(code, after.slice(-10).join("\n")).toBe(0);
    console.log(`[stop] backlog of ${slow.outstanding()} left of 100; exit after ${elapsed} ms; ${after.length} log lines`);
    expect(after.join("\n")).toMatch(/"budgetS":7,"msg":"stopping"/);
    expect(elapsed).toBeLessThan(7_000 + 2_000); // the budget, plus process start-up slack
    expect(slow.outstanding()).toBeGreaterThan(50); // the backlog was really there when it stopped
    const errors = after.filter((l) => /"level":"error"/.test(l));
    expect(errors.length, errors.join("\n")).toBeLessThanOrEqual(5);
  });
});
