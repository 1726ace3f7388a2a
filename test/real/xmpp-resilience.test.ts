// The botrun echo runtime (real transport, refreshing OAuth provider) under steady two-way traffic
// with a raw xmpp.js peer: access tokens that expire every few seconds (the server closes the
// session at expiry), Prosody killed and restarted, the connection black-holed by a TCP proxy; and
// SRV discovery through a local DNS server. Messages are counted by id (the echoed body).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenProvider, type TokenProvider } from "@botrun/core";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { startOAuthServer, type OAuthServerHandle } from "../env/oauth-server.ts";
import { startProxy, type ProxyHandle } from "../env/tcp-proxy.ts";
import { startDns, type DnsHandle } from "../env/dns.ts";
import { freePort, pidAlive } from "../env/proc.ts";
import { EchoPeer } from "./helpers/echo-peer.ts";
import { startEchoRuntime, type EchoRuntime } from "./helpers/echo-runtime.ts";

const PING_INTERVAL_S = 1;
const PING_TIMEOUT_S = 2;
const TOKEN_TTL_S = 5;
const TRAFFIC_MS = Number(process.env.BOTRUN_RESILIENCE_TRAFFIC_MS ?? 60_000);

let oauth: OAuthServerHandle;
let prosody: ProsodyHandle;
let proxy: ProxyHandle;
const prosodyPids = new Set<number>();
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  oauth = await startOAuthServer();
  prosody = await startProsody({
    oauth: { introspectionUrl: oauth.introspectionUrl, clientId: oauth.introspectionClientId, clientSecret: oauth.introspectionClientSecret },
  });
  prosodyPids.add(prosody.pid);
  await prosody.register("bot", "bot-password-unused");
  await prosody.register("peer", "peer-password");
  proxy = await startProxy("127.0.0.1", prosody.c2sPort);
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await proxy?.stop();
  await prosody?.stop();
  await oauth?.stop();
  for (const pid of prosodyPids) expect(pidAlive(pid), `prosody ${pid} left behind`).toBe(false);
});

/** A refreshing provider over a fresh grant for "bot". */
async function provider(key: string): Promise<{ tp: TokenProvider; refreshToken: string }> {
  const { refreshToken } = await oauth.issueTokens("bot");
  const tp = createTokenProvider({
    accountKey: key,
    tokenUrl: oauth.tokenUrl,
    clientId: oauth.clientId,
    clientSecret: oauth.clientSecret,
    refreshToken,
    storeSpec: "memory:",
  });
  tp.start?.();
  cleanups.push(() => tp.stop?.());
  return { tp, refreshToken };
}

/** The bot over the proxy, with short dead-link timers. */
async function bot(key: string, extra: Record<string, string> = {}): Promise<EchoRuntime> {
  const { tp, refreshToken } = await provider(key);
  const rt = await startEchoRuntime(
    {
      XMPP_SERVICE: `xmpp://127.0.0.1:${proxy.port}`,
      XMPP_DOMAIN: "localhost",
      XMPP_CA_FILE: prosody.caFile,
      OAUTH_TOKEN_URL: oauth.tokenUrl,
      OAUTH_CLIENT_ID: oauth.clientId,
      OAUTH_REFRESH_TOKEN: refreshToken,
      XMPP_PING_INTERVAL: String(PING_INTERVAL_S),
      XMPP_PING_TIMEOUT: String(PING_TIMEOUT_S),
      XMPP_SM_ACK_TIMEOUT: "5",
      XMPP_RECONNECT_BASE_DELAY: "0.2",
      XMPP_RECONNECT_MAX_DELAY: "2",
      XMPP_CONNECT_TIMEOUT: "10",
      ...extra,
    },
    { tokenProvider: tp },
  );
  cleanups.push(() => rt.stop());
  return rt;
}

async function peer(prefix: string): Promise<EchoPeer> {
  const p = await EchoPeer.forProsody(prosody, prefix);
  cleanups.push(() => p.stop());
  return p;
}

const waitMs = (ms: number) => new Promise((r) => setTimeout(r, ms)); // traffic duration only, never as a sync point

describe("resilience under steady traffic", () => {
  it(`access tokens expiring every ${TOKEN_TTL_S} s for ${TRAFFIC_MS / 1000} s: zero lost, zero duplicated`, async () => {
    oauth.setAccessTokenPolicy({ accessTtl: TOKEN_TTL_S });
    try {
      const rt = await bot("expiry");
      const p = await peer("exp");
      const refreshesBefore = oauth.stats.tokenRequests;
      p.startSteady(10);
      await waitMs(TRAFFIC_MS);
      p.stopSteady();
      await p.waitAllEchoed(30_000);
      const s = p.stats();
      const closures = rt.events.filter((e) => e.type === "offline").length;
      const refreshes = oauth.stats.tokenRequests - refreshesBefore;
      console.log(`[token expiry] ${JSON.stringify(p.summary())} sessions closed=${closures} token requests=${refreshes}`);
      expect(s.sent).toBeGreaterThan((TRAFFIC_MS / 1000) * 5);
      expect(s.lost).toEqual([]);
      expect(s.duplicates).toEqual({});
      // The server really closed sessions at expiry, and the provider kept refreshing.
      expect(closures).toBeGreaterThanOrEqual(Math.floor(TRAFFIC_MS / 1000 / TOKEN_TTL_S / 2));
      expect(refreshes).toBeGreaterThanOrEqual(closures);
      expect(rt.events.some((e) => e.type === "fatal")).toBe(false);
      expect(rt.lines.join("\n")).not.toMatch(/unhandled|TypeError|acknowledged/);
      await p.stop();
      await rt.stop();
    } finally {
      oauth.setAccessTokenPolicy({ accessTtl: 3600 });
    }
  });

  it("Prosody killed and restarted mid-traffic: detected, back online, zero lost (duplicates counted)", async () => {
    const rt = await bot("restart");
    const p = await peer("rst");
    p.startSteady(20);
    await p.waitFor(() => p.stats().echoed >= 40, 10_000);
    const from = rt.events.length;
    await prosody.kill();
    await rt.waitEvent("offline", 5_000, from);
    await prosody.restart();
    prosodyPids.add(prosody.pid);
    const back = await rt.waitEvent("online", 20_000, from);
    await p.raw.online(20_000);
    await p.waitFor(() => p.stats().echoed >= p.stats().sent - 40 && p.stats().sent > 200, 30_000);
    p.stopSteady();
    await p.waitAllEchoed(30_000);
    const s = p.stats();
    console.log(
      `[server restart] ${JSON.stringify(p.summary())} back online after ${back.at - rt.events[from]!.at} ms; duplicate ids: ${Object.keys(s.duplicates).length}`,
    );
    expect(s.lost).toEqual([]);
    await p.stop();
    await rt.stop();
  });

  it("connection black-holed: detected within the ping timeout, resumed, zero lost, zero duplicated", async () => {
    const rt = await bot("blackhole");
    const p = await peer("bh");
    p.startSteady(20);
    await p.waitFor(() => p.stats().echoed >= 40, 10_000);
    const from = rt.events.length;
    const holedAt = Date.now();
    proxy.blackhole(true);
    const off = await rt.waitEvent("offline", (PING_INTERVAL_S + PING_TIMEOUT_S) * 1000 + 3_000, from);
    const detectMs = off.at - holedAt;
    proxy.blackhole(false);
    const back = await Promise.race([rt.waitEvent("resumed", 20_000, from), rt.waitEvent("online", 20_000, from)]);
    await p.waitFor(() => p.stats().sent > 200, 30_000);
    p.stopSteady();
    await p.waitAllEchoed(30_000);
    const s = p.stats();
    console.log(`[blackhole] ${JSON.stringify(p.summary())} detected after ${detectMs} ms, back (${back.type}) after ${back.at - holedAt} ms`);
    expect(detectMs).toBeLessThanOrEqual((PING_INTERVAL_S + PING_TIMEOUT_S) * 1000 + 1_000);
    expect(back.type).toBe("resumed");
    expect(s.lost).toEqual([]);
    expect(s.duplicates).toEqual({});
    await p.stop();
    await rt.stop();
  });
});

describe("SRV discovery", () => {
  let dns: DnsHandle;
  afterAll(async () => {
    await dns?.stop();
    if (dns) expect(pidAlive(dns.pid)).toBe(false);
  });

  it("finds the server from XMPP_DOMAIN and XMPP_DNS_SERVER alone, skipping a dead higher-priority target", async () => {
    const dead = await freePort();
    dns = await startDns({
      srv: [
        { name: "_xmpps-client._tcp.localhost", target: "localhost", port: dead, priority: 0 },
        { name: "_xmpps-client._tcp.localhost", target: "localhost", port: prosody.directTlsPort, priority: 5 },
        { name: "_xmpp-client._tcp.localhost", target: "localhost", port: prosody.c2sPort, priority: 10 },
      ],
    });
    const { tp, refreshToken } = await provider("srv");
    const rt = await startEchoRuntime(
      {
        XMPP_DOMAIN: "localhost",
        XMPP_DNS_SERVER: dns.server,
        XMPP_CA_FILE: prosody.caFile,
        OAUTH_TOKEN_URL: oauth.tokenUrl,
        OAUTH_CLIENT_ID: oauth.clientId,
        OAUTH_REFRESH_TOKEN: refreshToken,
      },
      { tokenProvider: tp },
    );
    cleanups.push(() => rt.stop());
    expect(rt.transport.jid).toMatch(/^bot@localhost\//);
    const online = rt.lines.find((l) => l.startsWith("INFO  online"));
    expect(online).toContain(`service=xmpps://localhost:${prosody.directTlsPort}`);
    await rt.stop();
  });
});
