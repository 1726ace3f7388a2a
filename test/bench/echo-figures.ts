// The echo bench's figures: one block's measurements, a bot's figures over blocks (pooled or per
// round), medians and best rounds, the printed lines, and the GC summary. Used by echo.ts.
import { median, pct } from "./stats.ts";

/** One block: `n` round trips with a fixed number in flight, from `start` to `end` (ms since the epoch). */
export interface Block {
  n: number;
  ms: number;
  /** Round-trip latencies seen by the peer, ms. */
  lat: number[];
  /** CPU the bot process used during the block, ms. */
  cpuMs: number;
  /** CPU the server used during the block, ms. */
  serverMs: number;
  start: number;
  end: number;
}

/** The figures of one bot for one set of blocks (one round, or all of them pooled). */
export interface Result {
  rate1: number;
  p50: number;
  p99: number;
  rate20: number;
  p50_20: number;
  p99_20: number;
  /** CPU (all threads) the bot process used per round trip, µs. */
  cpu: number;
  /** CPU the server (Prosody) used per round trip with this bot, µs. */
  server: number;
  /** Bot-side latency at 1 in flight (read to write inside the bot), p50 and p99, µs. */
  side50: number;
  side99: number;
  /** XEP-0198 `<a/>` the bot wrote per 1000 round trips. */
  acks: number;
}
/** Per metric: true when higher is better (best-of takes the maximum), false when lower is. */
export const HIGHER: Record<keyof Result, boolean> = { rate1: true, p50: false, p99: false, rate20: true, p50_20: false, p99_20: false, cpu: false, server: false, side50: false, side99: false, acks: false };
export const KEYS = Object.keys(HIGHER) as (keyof Result)[];

/** What the probe (reply-probe.mjs) saw in one bot. */
export interface Probe {
  /** Flat pairs: read time (ms since the epoch), read-to-reply latency (ms). */
  samples: number[];
  /** When each `<a/>` was written (ms since the epoch). */
  acks: number[];
}
const within = (t: number, blocks: readonly Block[]) => blocks.some((b) => t >= b.start && t <= b.end);

/** Bot-side latencies (µs) the probe saw inside `blocks` (reads that started within a block). */
function sideLatencies(probe: Probe, blocks: readonly Block[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < probe.samples.length; i += 2) if (within(probe.samples[i]!, blocks)) out.push(probe.samples[i + 1]! * 1000);
  return out;
}

/** The figures of the 1-in-flight blocks `one` and the 20-in-flight blocks `twenty`, pooled. */
export function figures(one: readonly Block[], twenty: readonly Block[], probe: Probe): Result {
  const rate = (bs: readonly Block[]) => (bs.reduce((a, b) => a + b.n, 0) * 1000) / bs.reduce((a, b) => a + b.ms, 0);
  const lat = (bs: readonly Block[]) => bs.flatMap((b) => b.lat);
  const all = [...one, ...twenty];
  const side = sideLatencies(probe, one);
  return {
    rate1: rate(one),
    p50: pct(lat(one), 50),
    p99: pct(lat(one), 99),
    rate20: rate(twenty),
    p50_20: pct(lat(twenty), 50),
    p99_20: pct(lat(twenty), 99),
    cpu: (all.reduce((a, b) => a + b.cpuMs, 0) * 1000) / all.reduce((a, b) => a + b.n, 0),
    server: (all.reduce((a, b) => a + b.serverMs, 0) * 1000) / all.reduce((a, b) => a + b.n, 0),
    side50: pct(side, 50),
    side99: pct(side, 99),
    acks: (probe.acks.filter((t) => within(t, all)).length * 1000) / all.reduce((a, b) => a + b.n, 0),
  };
}

/** Per-metric median over rounds, or (`best`) each metric's best round. */
export function summarise(rs: readonly Result[], best = false): Result {
  const pick = (k: keyof Result) => {
    const xs = rs.map((r) => r[k]);
    return best ? (HIGHER[k] ? Math.max(...xs) : Math.min(...xs)) : median(xs);
  };
  return Object.fromEntries(KEYS.map((k) => [k, pick(k)])) as unknown as Result;
}

export const fmt = (r: Result) =>
  `1 in flight ${r.rate1.toFixed(0)} rt/s, p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} ms | 20 in flight ${r.rate20.toFixed(0)}/s, p50 ${r.p50_20.toFixed(2)} p99 ${r.p99_20.toFixed(2)} ms | CPU ${r.cpu.toFixed(0)} µs/echo (server ${r.server.toFixed(0)}) | bot-side p50 ${r.side50.toFixed(0)} p99 ${r.side99.toFixed(0)} µs | ${r.acks.toFixed(0)} <a/> per 1000 echoes`;
const ratio = (b: Result, raw: Result, k: keyof Result) => (b[k] / raw[k]).toFixed(2);
export const ratios = (b: Result, raw: Result) =>
  `throughput 1 in flight ${ratio(b, raw, "rate1")}x, 20 in flight ${ratio(b, raw, "rate20")}x (target >= 1.0); ` +
  `CPU/echo ${ratio(b, raw, "cpu")}x (target <= 1.0), server's ${ratio(b, raw, "server")}x; p99 1 in flight ${ratio(b, raw, "p99")}x, 20 in flight ${ratio(b, raw, "p99_20")}x (target <= 1.0); ` +
  `bot-side p50 ${ratio(b, raw, "side50")}x p99 ${ratio(b, raw, "side99")}x`;

/** Scavenges, mark-compacts and GC pause ms per 1000 echoes, from --trace-gc lines ("…: Scavenge 5.1 (6.2) -> 4.3 (7.2) MB, 0.85 / 0.00 ms …"). */
export function gcSummary(lines: readonly string[], echoes: number): string {
  let scavenges = 0;
  let marks = 0;
  let pause = 0;
  for (const l of lines) {
    if (/Scavenge/.test(l)) scavenges++;
    else if (/Mark-Compact|Mark-sweep/i.test(l)) marks++;
    else continue;
    pause += Number(/MB, ([\d.]+) \//.exec(l)?.[1] ?? 0);
  }
  const k = 1000 / echoes;
  return `${(scavenges * k).toFixed(2)} scavenges, ${(marks * k).toFixed(3)} mark-compacts, ${(pause * k).toFixed(2)} ms GC pause per 1000 echoes`;
}
