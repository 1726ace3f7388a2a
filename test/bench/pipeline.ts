// Benchmark: dispatches per second through a chain of N no-op middlewares, botrun vs koa-compose.
// Each measurement runs in its own child process (so that one implementation's JIT feedback
// cannot slow the other's), rounds alternate between implementations, and medians are compared.
// Prints figures and ratios; it is not a pass/fail test. Run: npm run bench.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import koaCompose from "koa-compose";
import { compose, Composer, type Context, type MiddlewareFn } from "@botrun/core";

const DURATION_MS = Number(process.env.BENCH_MS ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const IMPLS = ["koa", "compose", "composer"] as const;
type Impl = (typeof IMPLS)[number];

function build(impl: Impl, n: number): (ctx: object) => Promise<unknown> {
  const noop: MiddlewareFn<object> = (_ctx, next) => next();
  const list = Array.from({ length: n }, () => noop);
  const end = () => Promise.resolve();
  if (impl === "koa") {
    const k = koaCompose(list as koaCompose.Middleware<object>[]);
    return (c) => k(c);
  }
  if (impl === "compose") {
    const f = compose(list);
    return (c) => f(c, end) as Promise<unknown>;
  }
  const tree = new Composer<Context>();
  for (const mw of list) tree.use(mw as MiddlewareFn<Context>);
  const f = tree.middleware() as unknown as MiddlewareFn<object>;
  return (c) => f(c, end) as Promise<unknown>;
}

async function measure(impl: Impl, n: number): Promise<number> {
  const run = build(impl, n);
  const ctx = {};
  const loop = async (ms: number) => {
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
  await loop(DURATION_MS / 2); // warm-up
  return loop(DURATION_MS);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(11);

if (process.argv[2] === "--worker") {
  const rate = await measure(process.argv[3] as Impl, Number(process.argv[4]));
  process.stdout.write(String(rate));
} else {
  const self = fileURLToPath(import.meta.url);
  const tsx = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
  console.log(`pipeline benchmark: ${ROUNDS} alternating rounds, one child process per measurement, ${DURATION_MS} ms each`);
  console.log(`node ${process.version}, NODE_ENV=production (no development-mode checks)\n`);
  console.log("  N      koa-compose   botrun compose   botrun Composer   compose/koa   Composer/koa");
  const bestLines: string[] = [];
  for (const n of [1, 5, 20]) {
    const results: Record<Impl, number[]> = { koa: [], compose: [], composer: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const impl of IMPLS) {
        const out = execFileSync(process.execPath, [tsx, self, "--worker", impl, String(n)], {
          env: { ...process.env, NODE_ENV: "production" },
        });
        results[impl].push(Number(out.toString()));
      }
    }
    const k = median(results.koa);
    const c = median(results.compose);
    const t = median(results.composer);
    const best = (xs: number[]) => Math.max(...xs);
    console.log(`${String(n).padStart(3)}  ${fmt(k)}      ${fmt(c)}       ${fmt(t)}         ${(c / k).toFixed(2)}×          ${(t / k).toFixed(2)}×`);
    bestLines.push(
      `${String(n).padStart(3)}  ${fmt(best(results.koa))}      ${fmt(best(results.compose))}       ${fmt(best(results.composer))}         ${(best(results.compose) / best(results.koa)).toFixed(2)}×          ${(best(results.composer) / best(results.koa)).toFixed(2)}×`,
    );
  }
  console.log("\nbest round of each (least disturbed by other load):");
  for (const l of bestLines) console.log(l);
  console.log("\ntarget: botrun ≥ 1.00× koa-compose at every N. `botrun Composer` is what a Bot runs (compose() under a Composer tree).");
}
