/**
 * The pipeline primitive: run a flat list of `(ctx, next) => …` middlewares in order,
 * koa-compose style, with two guards: `next()` called twice throws, and (in development
 * mode) a middleware that returns before its downstream finished is reported.
 */

/** Calls the rest of the pipeline; resolves once it has finished. */
export type NextFunction = () => Promise<void>;
/** A middleware function. */
export type MiddlewareFn<C> = (ctx: C, next: NextFunction) => unknown;
/** Anything that can hand out a middleware function (a Composer, a plugin). */
export interface MiddlewareObj<C> {
  middleware(): MiddlewareFn<C>;
}
/** A middleware: a function or an object providing one. */
export type Middleware<C> = MiddlewareFn<C> | MiddlewareObj<C>;

/** Thrown when a middleware calls `next()` more than once. */
export class NextCalledTwiceError extends Error {
  override readonly name = "NextCalledTwiceError";
  constructor() {
    super("next() called multiple times in one middleware");
  }
}

/** Reported (not thrown) in development mode when a middleware did not await `next()`. */
export class UnawaitedNextError extends Error {
  override readonly name = "UnawaitedNextError";
  constructor(index: number) {
    super(`middleware #${index} returned before next() finished: did you forget to \`await next()\`?`);
  }
}

/** Options of `compose`. */
export interface ComposeOptions {
  /** Called when a middleware forgot to await `next()`. Given only in development mode. */
  onUnawaitedNext?: (error: UnawaitedNextError) => void;
}

const RESOLVED: Promise<void> = Promise.resolve();
const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && (typeof v === "object" || typeof v === "function") && typeof (v as { then?: unknown }).then === "function";

/** Turn a middleware into its function. */
export function toFn<C>(mw: Middleware<C>): MiddlewareFn<C> {
  return typeof mw === "function" ? mw : mw.middleware();
}

/** Compose middlewares into one. The result is itself a middleware. */
export function compose<C>(middlewares: readonly MiddlewareFn<C>[], opts: ComposeOptions = {}): MiddlewareFn<C> {
  const fns = middlewares.slice();
  const n = fns.length;
  if (n === 0) return (_ctx, next) => next();
  const report = opts.onUnawaitedNext;
  if (report) return composeChecked(fns, report);
  return function composed(ctx: C, next: NextFunction): Promise<void> {
    return step({ fns, ctx, next, index: -1 }, 0);
  };
}

/** One trip through a composed chain. */
interface Run<C> {
  readonly fns: MiddlewareFn<C>[];
  readonly ctx: C;
  readonly next: NextFunction;
  /** The highest middleware index entered so far (the next-twice guard). */
  index: number;
}

// Hot path. Written without named closures: tsx (esbuild keepNames) would wrap every
// per-call named function in a defineProperty call, which costs ~5x here. The per-level
// closure captures only `run` and `i`.
function step<C>(run: Run<C>, i: number): Promise<void> {
  if (i <= run.index) return Promise.reject(new NextCalledTwiceError());
  run.index = i;
  const fns = run.fns;
  if (i === fns.length) return run.next();
  try {
    const r = fns[i]!(run.ctx, () => step(run, i + 1));
    if (r instanceof Promise) return r as Promise<void>;
    return r !== undefined && isThenable(r) ? (r as Promise<void>) : RESOLVED;
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The development-mode variant: also tracks whether each `next()` finished before its caller. */
function composeChecked<C>(fns: MiddlewareFn<C>[], report: (e: UnawaitedNextError) => void): MiddlewareFn<C> {
  const n = fns.length;
  return function composed(ctx: C, next: NextFunction): Promise<void> {
    let index = -1;
    const dispatch = (i: number): Promise<void> => {
      if (i <= index) return Promise.reject(new NextCalledTwiceError());
      index = i;
      if (i === n) return next();
      let downstream: "idle" | "running" | "done" = "idle";
      const nextFn = () => {
        downstream = "running";
        const p = dispatch(i + 1);
        p.then(
          () => (downstream = "done"),
          () => (downstream = "done"),
        );
        return p;
      };
      const check = () => {
        if (downstream === "running") report(new UnawaitedNextError(i));
      };
      try {
        const r = fns[i]!(ctx, nextFn);
        if (!isThenable(r)) {
          check();
          return RESOLVED;
        }
        return Promise.resolve(r).then(check) as Promise<void>;
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return dispatch(0);
  };
}
