// Benchmark: dispatches per second through N no-op middlewares, botrun vs koa-compose, same run.
// Prints figures and ratios; it is not a pass/fail test. Run: pnpm bench (or tsx test/bench/pipeline.ts).
import koaCompose from "koa-compose";
import { compose, Composer, type Context, type MiddlewareFn } from "@botrun/core";

const DURATION_MS = Number(process.env.BENCH_MS ?? 400);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BATCH = 1000;

type Run = (ctx: object) => Promise<unknown>;

async function rate(run: Run): Promise<number> {
  const ctx = {};
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < DURATION_MS) {
    for (let i = 0; i < BATCH; i++) await run(ctx);
    n += BATCH;
    t = performance.now();
  }
  return (n / (t - t0)) * 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(11);

const noop: MiddlewareFn<object> = (_ctx, next) => next();
const end = () => Promise.resolve();

async function main() {
  console.log(`pipeline benchmark: ${ROUNDS} interleaved rounds × ${DURATION_MS} ms, median dispatches/s`);
  console.log(`node ${process.version}\n`);
  console.log("  N        koa-compose   botrun compose   botrun Composer   compose/koa   Composer/koa");
  for (const N of [1, 5, 20]) {
    const koa = koaCompose(Array.from({ length: N }, () => noop as koaCompose.Middleware<object>));
    const ours = compose(Array.from({ length: N }, () => noop));
    const tree = new Composer<Context>();
    for (let i = 0; i < N; i++) tree.use(noop as MiddlewareFn<Context>);
    const composed = tree.middleware() as unknown as MiddlewareFn<object>;
    const runs: Record<string, Run> = {
      koa: (c) => koa(c),
      compose: (c) => ours(c, end),
      composer: (c) => composed(c, end) as Promise<unknown>,
    };
    const results: Record<string, number[]> = { koa: [], compose: [], composer: [] };
    for (const r of Object.values(runs)) await rate(r); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, r] of Object.entries(runs)) results[name]!.push(await rate(r));
    }
    const k = median(results.koa!);
    const c = median(results.compose!);
    const t = median(results.composer!);
    console.log(
      `${String(N).padStart(3)}   ${fmt(k)}      ${fmt(c)}       ${fmt(t)}         ${(c / k).toFixed(2)}×          ${(t / k).toFixed(2)}×`,
    );
  }
  console.log("\ntarget: botrun ≥ 1.00× koa-compose at every N (production mode; development mode adds the unawaited-next check)");
}

await main();
