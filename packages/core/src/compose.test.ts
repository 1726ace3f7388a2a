// Semantics of the pipeline primitive: order, next-twice, unawaited next, sync and async middlewares.
import { describe, expect, it } from "vitest";
import { compose, NextCalledTwiceError, UnawaitedNextError, type MiddlewareFn } from "./compose.ts";

type Ctx = { log: string[] };
const end = () => Promise.resolve();

describe("compose", () => {
  it("runs middlewares in onion order", async () => {
    const mw = (name: string): MiddlewareFn<Ctx> => async (ctx, next) => {
      ctx.log.push(`>${name}`);
      await next();
      ctx.log.push(`<${name}`);
    };
    const ctx = { log: [] as string[] };
    await compose([mw("a"), mw("b"), mw("c")])(ctx, end);
    expect(ctx.log).toEqual([">a", ">b", ">c", "<c", "<b", "<a"]);
  });

  it("stops when a middleware does not call next", async () => {
    const ctx = { log: [] as string[] };
    await compose<Ctx>([(c) => void c.log.push("a"), (c) => void c.log.push("b")])(ctx, end);
    expect(ctx.log).toEqual(["a"]);
  });

  it("calls the outer next after the last middleware", async () => {
    const ctx = { log: [] as string[] };
    await compose<Ctx>([(_c, next) => next()])(ctx, async () => void ctx.log.push("outer"));
    expect(ctx.log).toEqual(["outer"]);
  });

  it("rejects when next() is called twice", async () => {
    const run = compose<Ctx>([
      async (_c, next) => {
        await next();
        await next();
      },
    ]);
    await expect(run({ log: [] }, end)).rejects.toBeInstanceOf(NextCalledTwiceError);
  });

  it("turns a synchronous throw into a rejection", async () => {
    const run = compose<Ctx>([
      () => {
        throw new Error("boom");
      },
    ]);
    await expect(run({ log: [] }, end)).rejects.toThrow("boom");
  });

  it("propagates a downstream rejection to an awaiting upstream", async () => {
    const seen: unknown[] = [];
    const run = compose<Ctx>([
      async (_c, next) => {
        try {
          await next();
        } catch (e) {
          seen.push(e);
        }
      },
      async () => {
        throw new Error("deep");
      },
    ]);
    await run({ log: [] }, end);
    expect(seen).toHaveLength(1);
    expect((seen[0] as Error).message).toBe("deep");
  });

  it("in development mode, reports a middleware that forgot to await next()", async () => {
    const reports: UnawaitedNextError[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const run = compose<Ctx>(
      [
        (_c, next) => {
          void next(); // forgot await
        },
        () => slow,
      ],
      { onUnawaitedNext: (e) => reports.push(e) },
    );
    await run({ log: [] }, end);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.message).toMatch(/forget to `await next\(\)`/);
    release();
  });

  it("in development mode, does not report middlewares that await next()", async () => {
    const reports: UnawaitedNextError[] = [];
    const run = compose<Ctx>(
      [async (_c, next) => void (await next()), (_c, next) => next(), () => new Promise<void>((r) => setTimeout(r, 1))],
      { onUnawaitedNext: (e) => reports.push(e) },
    );
    await run({ log: [] }, end);
    expect(reports).toEqual([]);
  });

  it("with no middleware, just calls next", async () => {
    let called = false;
    await compose<Ctx>([])({ log: [] }, async () => void (called = true));
    expect(called).toBe(true);
  });
});
