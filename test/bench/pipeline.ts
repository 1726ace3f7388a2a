// Benchmark: dispatches per second through a chain of N no-op middlewares, botrun vs koa-compose.
// One child process per N. In it each implementation is its own module instance (this file
// imported again with a query, the botrun modules likewise), with its own no-op middleware and
// its own loop, so no implementation's JIT feedback (a call site seeing another's functions) can
// slow another's. Rounds interleave the implementations in short slices, the order rotating each
// round, so load from other processes hits all alike. Prints medians over rounds, the best
// rounds, and the median of the per-round ratios. Not a pass/fail test. Run: npm run bench.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { median } from "./stats.ts";

const SLICE_MS = Number(process.env.BENCH_MS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const IMPLS = ["koa", "compose", "composer"] as const;
type Impl = (typeof IMPLS)[number];
type Run = (ctx: object) => Promise<unknown>;
type Fn = (ctx: object, next: () => Promise<void>) => unknown;

/** In an implementation's own module instance: build its chain of `n` no-ops and a timed loop over it. */
export async function prepare(impl: Impl, n: number): Promise<(ms: number) => Promise<number>> {
  // A fresh function literal per instance (its own feedback), not one shared by all implementations.
  const noop = new Function("ctx", "next", "return next()") as Fn;
  const list: Fn[] = Array.from({ length: n }, () => noop);
  const end = () => Promise.resolve();
  let run: Run;
  if (impl === "koa") {
    const { default: koaCompose } = await import("koa-compose");
    const k = koaCompose(list as Parameters<typeof koaCompose>[0]);
    run = (c) => k(c);
  } else if (impl === "compose") {
    const { compose } = (await import(new URL("../../packages/core/src/compose.ts?bench", import.meta.url).href)) as typeof import("../../packages/core/src/compose.ts");
    const f = compose(list);
    run = (c) => f(c, end) as Promise<unknown>;
  } else {
    const { Composer } = (await import(new URL("../../packages/core/src/composer.ts?bench", import.meta.url).href)) as typeof import("../../packages/core/src/composer.ts");
    const tree = new Composer();
    for (const mw of list) tree.use(mw as never);
    const f = tree.middleware() as unknown as Fn;
    run = (c) => f(c, end) as Promise<unknown>;
  }
  const ctx = {};
  return async (ms) => {
    let count = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ms) {
      for (let i = 0; i < 1000; i++) await run(ctx);
      count += 1000;
      t = performance.now();
    }
    return (count / (t - t0)) * 1000;
  };
}

const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(11);
const ratio = (x: number) => `${x.toFixed(2)}×`.padStart(12);

async function worker(n: number): Promise<Record<Impl, number[]>> {
  const loops = {} as Record<Impl, (ms: number) => Promise<number>>;
  for (const impl of IMPLS) {
    const mod = (await import(`${import.meta.url}?${impl}`)) as { prepare: typeof prepare };
    loops[impl] = await mod.prepare(impl, n);
    await loops[impl](300); // warm-up
  }
  const rates: Record<Impl, number[]> = { koa: [], compose: [], composer: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (let j = 0; j < IMPLS.length; j++) {
      const impl = IMPLS[(j + round) % IMPLS.length]!;
      rates[impl].push(await loops[impl](SLICE_MS));
    }
  }
  return rates;
}

if (new URL(import.meta.url).search !== "") {
  // An implementation's module instance: only `prepare` is used.
} else if (process.argv[2] === "--worker") {
  process.stdout.write(JSON.stringify(await worker(Number(process.argv[3]))));
} else {
  const self = fileURLToPath(import.meta.url);
  const tsx = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
  console.log(`pipeline benchmark: one process per N; ${ROUNDS} interleaved rounds of ${SLICE_MS} ms per implementation (order rotating)`);
  console.log(`node ${process.version}, NODE_ENV=production (no development-mode checks); dispatches per second\n`);
  const head = "  N      koa-compose   botrun compose   botrun Composer   compose/koa   Composer/koa";
  const sections: Record<"median" | "best" | "perRound", string[]> = { median: [], best: [], perRound: [] };
  for (const n of [1, 5, 20]) {
    const out = execFileSync(process.execPath, [tsx, self, "--worker", String(n)], { env: { ...process.env, NODE_ENV: "production" } });
    const r = JSON.parse(out.toString()) as Record<Impl, number[]>;
    const line = (k: number, c: number, t: number) => `${String(n).padStart(3)}  ${fmt(k)}      ${fmt(c)}       ${fmt(t)}   ${ratio(c / k)}   ${ratio(t / k)}`;
    const [k, c, t] = [median(r.koa), median(r.compose), median(r.composer)];
    sections.median.push(line(k, c, t));
    sections.best.push(line(Math.max(...r.koa), Math.max(...r.compose), Math.max(...r.composer)));
    const per = (impl: Impl) => median(r[impl].map((x, i) => x / r.koa[i]!));
    sections.perRound.push(`${String(n).padStart(3)}  ${" ".repeat(50)}${ratio(per("compose"))}   ${ratio(per("composer"))}`);
  }
  console.log(`medians over rounds:\n${head}`);
  for (const l of sections.median) console.log(l);
  console.log(`\nbest round of each (least disturbed by other load):\n${head}`);
  for (const l of sections.best) console.log(l);
  console.log(`\nmedian of the per-round ratios (each round's figures taken side by side):`);
  for (const l of sections.perRound) console.log(l);
  console.log("\ntarget: botrun ≥ 1.00× koa-compose at every N, in the medians. `botrun Composer` is what a Bot runs (compose() under a Composer tree).");
}
