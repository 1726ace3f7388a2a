// lazy() keeps the development-mode checks (issue 11.2): what its factory returns is compiled like
// the eager pipeline, so a forgotten `await next()` inside it is reported the same way.
import { describe, expect, it } from "vitest";
import { Bot } from "./bot.ts";
import { Composer } from "./composer.ts";
import type { MiddlewareFn } from "./compose.ts";
import type { Context } from "./context.ts";
import type { Logger } from "./logger.ts";
import { createHarness } from "./testing/index.ts";

/** A logger that keeps its warnings. */
function warnings(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger: Logger = { trace() {}, debug() {}, info() {}, error() {}, warn: (msg) => void lines.push(msg), child: () => logger };
  return { logger, lines };
}

/** Forgets to await next(); the handler after it (`slowTail`, in the same list) is still running when it returns. */
const forgetful: MiddlewareFn<Context> = (_ctx, next) => void next();
const slowTail = async () => new Promise<void>((r) => setImmediate(r));
const UNAWAITED = /forget to `await next\(\)`/;

async function run(install: (bot: Bot) => void, dev: boolean): Promise<string[]> {
  const bot = new Bot({ name: "t" });
  install(bot);
  const { logger, lines } = warnings();
  const t = await createHarness(bot, { logger, dev });
  await t.say("hi");
  await t.settle();
  return lines.filter((l) => UNAWAITED.test(l));
}

describe("lazy() in development mode", () => {
  it("reports a forgotten await next() like the eager path does", async () => {
    expect(await run((bot) => bot.use(forgetful, slowTail), true)).toHaveLength(1); // the eager path, for comparison
    expect(await run((bot) => bot.lazy(() => [forgetful, slowTail]), true)).toHaveLength(1);
  });

  it("also inside a composer the factory returns", async () => {
    expect(await run((bot) => bot.lazy(() => new Composer<Context>(forgetful, slowTail)), true)).toHaveLength(1);
  });

  it("reports nothing in production mode, and nothing for middleware that awaits", async () => {
    expect(await run((bot) => bot.lazy(() => [forgetful, slowTail]), false)).toEqual([]);
    expect(await run((bot) => bot.lazy(() => [async (_ctx, next) => void (await next()), slowTail]), true)).toEqual([]);
  });
});
