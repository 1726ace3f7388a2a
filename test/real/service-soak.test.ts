// Soak: the real `botrun echo` process under steady echo traffic with 3-second access tokens, so
// the bot refreshes its token and the server ends its session (token expired) every few seconds:
// compressed hours of reconnects and refreshes. The process's RSS, heap and open handles/resources
// (process.getActiveResourcesInfo(), read through its /metrics) are sampled over time and printed;
// the test fails if they grow without bound (median of the last third vs the first third).
// Default: a compressed run of ~70 s. BOTRUN_SOAK=1: a long run of BOTRUN_SOAK_SECONDS (default 1800).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { startOAuthServer, type OAuthServerHandle } from "../env/oauth-server.ts";
import { freePort, pidAlive } from "../env/proc.ts";
import { EchoPeer } from "./helpers/echo-peer.ts";
import { readyz, scrape, spawnBotrun, waitUntil } from "../soak/botrun-process.ts";

const LONG = process.env.BOTRUN_SOAK === "1";
const LONG_SECONDS = Number(process.env.BOTRUN_SOAK_SECONDS ?? 1800);

let oauth: OAuthServerHandle;
let prosody: ProsodyHandle;
const pids: number[] = [];

beforeAll(async () => {
  oauth = await startOAuthServer({ accessTtl: 3 });
  prosody = await startProsody({
    oauth: { introspectionUrl: oauth.introspectionUrl, clientId: oauth.introspectionClientId, clientSecret: oauth.introspectionClientSecret },
  });
  pids.push(prosody.pid);
  await prosody.register("bot", "bot-pw-soak");
  await prosody.register("alice", "alice-pw-soak");
});

afterAll(async () => {
  await prosody?.stop();
  await oauth?.stop();
  for (const pid of pids) expect(pidAlive(pid), `process ${pid} left behind`).toBe(false);
});

interface Sample {
  t: number;
  rssMb: number;
  heapMb: number;
  handles: number;
  resources: number;
  reconnects: number;
  refreshes: number;
  echoed: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function soak(seconds: number, sampleEveryMs: number): Promise<void> {
  const tokens = await oauth.issueTokens("bot", { accessTtl: 3 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const bot = spawnBotrun(["echo", "--http-port", String(port)], {
    XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
    XMPP_DOMAIN: "localhost",
    XMPP_CA_FILE: prosody.caFile,
    XMPP_RECONNECT_BASE_DELAY: "0.1",
    XMPP_RECONNECT_MAX_DELAY: "1",
    XMPP_RECONNECT_STABLE_AFTER: "1",
    OAUTH_TOKEN_URL: oauth.tokenUrl,
    OAUTH_CLIENT_ID: oauth.clientId,
    OAUTH_CLIENT_SECRET: oauth.clientSecret,
    OAUTH_REFRESH_TOKEN: tokens.refreshToken,
    BOTRUN_TOKEN_STORE: "memory:",
    BOTRUN_LOG_LEVEL: "warn",
    BOTRUN_LOG_FORMAT: "json",
  });
  pids.push(bot.child.pid!);
  let peer: EchoPeer | undefined;
  const samples: Sample[] = [];
  try {
    await waitUntil(async () => (await readyz(url))?.status === 200, 30_000, () => bot.output().slice(-2000));
    peer = await EchoPeer.start({
      host: "127.0.0.1", directTlsPort: prosody.directTlsPort, domain: "localhost",
      username: "alice", password: "alice-pw-soak", caFile: prosody.caFile, bot: "bot@localhost",
    });
    peer.startSteady(25);
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      await new Promise((r) => setTimeout(r, sampleEveryMs));
      const m = await scrape(url);
      if (m.size === 0) continue;
      samples.push({
        t: Math.round((Date.now() - t0) / 1000),
        rssMb: (m.get("process_resident_memory_bytes") ?? 0) / 2 ** 20,
        heapMb: (m.get("nodejs_heap_size_used_bytes") ?? 0) / 2 ** 20,
        handles: m.get("nodejs_active_handles_total") ?? 0,
        resources: m.get("nodejs_active_resources_total") ?? 0,
        reconnects: m.get('botrun_reconnects_total{bot="echo"}') ?? 0,
        refreshes: m.get('botrun_token_refreshes_total{bot="echo"}') ?? 0,
        echoed: peer.stats().echoed,
      });
    }
    peer.stopSteady();
  } finally {
    await peer?.stop();
    const code = await bot.stop();
    expect(code).toBe(0);
  }

  console.log(
    ["  t(s)   rss(MB)  heap(MB)  handles  resources  reconnects  refreshes  echoed"]
      .concat(samples.map((s) => [s.t, s.rssMb.toFixed(1), s.heapMb.toFixed(1), s.handles, s.resources, s.reconnects, s.refreshes, s.echoed].map((v) => String(v).padStart(8)).join(" ")))
      .join("\n"),
  );
  expect(samples.length).toBeGreaterThanOrEqual(9);
  const last = samples.at(-1)!;
  // The stress really happened: many refreshes and server-forced reconnects, traffic echoed.
  expect(last.refreshes).toBeGreaterThanOrEqual(Math.floor(seconds / 6));
  expect(last.reconnects).toBeGreaterThanOrEqual(Math.floor(seconds / 8));
  expect(last.echoed).toBeGreaterThan(seconds * 10);
  // Bounded: the last third is not above the first third beyond a tolerance.
  const third = Math.floor(samples.length / 3);
  const first = samples.slice(0, third);
  const end = samples.slice(-third);
  const grow = (k: keyof Sample) => ({ first: median(first.map((s) => s[k])), last: median(end.map((s) => s[k])) });
  const rss = grow("rssMb");
  const heap = grow("heapMb");
  const handles = grow("handles");
  const resources = grow("resources");
  expect(rss.last, `RSS ${JSON.stringify(rss)}`).toBeLessThan(rss.first * 1.3 + 30);
  expect(heap.last, `heap ${JSON.stringify(heap)}`).toBeLessThan(heap.first * 1.5 + 15);
  expect(handles.last, `handles ${JSON.stringify(handles)}`).toBeLessThanOrEqual(handles.first + 5);
  expect(resources.last, `resources ${JSON.stringify(resources)}`).toBeLessThanOrEqual(resources.first + 8);
}

describe("soak (compressed)", () => {
  it("70 s of echo traffic with 3 s tokens: refreshes and reconnects every few seconds; memory and handles stay bounded", async () => {
    await soak(70, 2000);
  }, 170_000);
});

describe.runIf(LONG)("soak (long, BOTRUN_SOAK=1)", () => {
  it(`${LONG_SECONDS} s of the same`, async () => {
    await soak(LONG_SECONDS, 10_000);
  }, (LONG_SECONDS + 120) * 1000);
});
