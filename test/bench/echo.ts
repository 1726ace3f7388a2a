/**
 * Echo benchmark (printed, not a test): `node_modules/.bin/tsx test/bench/echo.ts`.
 * Starts Prosody and measures echo round trips per second (1 and 20 in flight) and p50/p99 latency
 * for the real `botrun echo` process (SCRAM-SHA-1 over STARTTLS) and for a minimal raw
 * @xmpp/client echo bot with TCP_NODELAY, same server, same run. The peer is an @xmpp/client
 * client (TCP_NODELAY set; slixmpp's own per-message overhead would dominate the figures).
 * Also prints process start → online, and the time to be back online after a server restart.
 * Stops everything it started.
 */
import { xml, type Element } from "@botrun/core";
import { startProsody } from "../env/prosody.ts";
import { EchoPeer } from "../real/helpers/echo-peer.ts";
import { startRawClient, type RawClient } from "../real/helpers/raw-client.ts";
import { startBotrun, type BotrunProcess } from "../real/helpers/botrun-process.ts";

const N1 = Number(process.env.BENCH_N1 ?? 1000);
const N20 = Number(process.env.BENCH_N20 ?? 4000);

interface Result {
  rate1: number;
  p50: number;
  p99: number;
  rate20: number;
  p50_20: number;
  p99_20: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Run `n` round trips with `window` in flight; returns rate and latencies. */
async function run(peer: EchoPeer, n: number, window: number): Promise<{ rate: number; lat: number[] }> {
  const from = peer.latencies.length;
  const start = performance.now();
  const target = peer.stats().sent + n;
  const base = peer.stats().echoed;
  while (peer.stats().sent < target) {
    while (peer.stats().sent < target && peer.stats().sent - peer.stats().echoed < window) peer.send();
    const sent = peer.stats().sent;
    await peer.waitFor(() => peer.stats().sent - peer.stats().echoed < window || peer.stats().echoed >= sent, 10_000);
  }
  await peer.waitFor(() => peer.stats().echoed >= base + n, 10_000);
  const secs = (performance.now() - start) / 1000;
  return { rate: n / secs, lat: peer.latencies.slice(from) };
}

async function measure(peer: EchoPeer): Promise<Result> {
  await run(peer, 100, 1); // warm-up
  const one = await run(peer, N1, 1);
  const twenty = await run(peer, N20, 20);
  return {
    rate1: one.rate,
    p50: pct(one.lat, 50),
    p99: pct(one.lat, 99),
    rate20: twenty.rate,
    p50_20: pct(twenty.lat, 50),
    p99_20: pct(twenty.lat, 99),
  };
}

const fmt = (r: Result) =>
  `1 in flight: ${r.rate1.toFixed(0)} rt/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms | 20 in flight: ${r.rate20.toFixed(0)} replies/s, p50 ${r.p50_20.toFixed(2)} ms, p99 ${r.p99_20.toFixed(2)} ms`;

const prosody = await startProsody();
let bot: BotrunProcess | undefined;
let rawBot: RawClient | undefined;
const peers: EchoPeer[] = [];
try {
  await prosody.register("bot", "bench-bot-pw");
  await prosody.register("rawbot", "bench-raw-pw");
  await prosody.register("peer", "bench-peer-pw");
  const common = { host: "127.0.0.1", directTlsPort: prosody.directTlsPort, domain: "localhost", caFile: prosody.caFile };

  rawBot = await startRawClient({ ...common, username: "rawbot", password: "bench-raw-pw", resource: "echo" });
  rawBot.xmpp.on("stanza", (el: Element) => {
    if (!el.is("message") || el.attrs.type === "error") return;
    const body = el.getChildText("body");
    if (body) rawBot!.xmpp.send(xml("message", { to: el.attrs.from, type: "chat" }, xml("body", {}, body))).catch(() => {});
  });

  const spawnedAt = Date.now();
  bot = startBotrun(["echo"], {
    XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
    XMPP_DOMAIN: "localhost",
    XMPP_CA_FILE: prosody.caFile,
    XMPP_MECHANISM: "SCRAM-SHA-1",
    XMPP_USERNAME: "bot",
    XMPP_PASSWORD: "bench-bot-pw",
    XMPP_RECONNECT_BASE_DELAY: "0.1",
    XMPP_RECONNECT_MAX_DELAY: "0.5",
    BOTRUN_LOG_LEVEL: "info",
    NODE_ENV: "production",
  });
  await bot.waitLine(/"component":"xmpp".*"msg":"online"/, 30_000);
  const startToOnline = Date.now() - spawnedAt;

  const botPeer = await EchoPeer.start({ ...common, username: "peer", password: "bench-peer-pw", bot: "bot@localhost", prefix: "b" });
  const rawPeer = await EchoPeer.start({ ...common, username: "peer", password: "bench-peer-pw", bot: "rawbot@localhost", prefix: "r" });
  peers.push(botPeer, rawPeer);

  // Alternate to spread machine noise over both.
  const raw = await measure(rawPeer);
  const br = await measure(botPeer);

  const mark = bot.lines.length;
  const restartAt = Date.now();
  await prosody.restart();
  await bot.waitLine(/"component":"xmpp".*"msg":"online"/, 30_000, mark);
  const backOnline = Date.now() - restartAt;

  console.log(`server: Prosody ${prosody.c2sPort}/${prosody.directTlsPort}; peer: @xmpp/client (TCP_NODELAY), direct TLS; bots over STARTTLS (botrun, SCRAM-SHA-1) / direct TLS (raw)`);
  console.log(`raw @xmpp/client echo bot : ${fmt(raw)}`);
  console.log(`botrun echo (process)     : ${fmt(br)}`);
  console.log(
    `ratios botrun/raw: throughput 1-in-flight ${(br.rate1 / raw.rate1).toFixed(2)}x (target >= 0.95), 20-in-flight ${(br.rate20 / raw.rate20).toFixed(2)}x; p99 1-in-flight ${(br.p99 / raw.p99).toFixed(2)}x (target <= 1.1), 20-in-flight ${(br.p99_20 / raw.p99_20).toFixed(2)}x`,
  );
  console.log(`botrun process start -> online: ${startToOnline} ms; back online after a server restart (kill + start): ${backOnline} ms`);
} finally {
  for (const p of peers) await p.stop();
  await rawBot?.stop();
  if (bot) {
    bot.child.kill("SIGTERM");
    await Promise.race([bot.exited, new Promise((r) => setTimeout(r, 10_000))]);
    await bot.stop(1000);
  }
  await prosody.stop();
}
