// Semantics of the Composer combinators, run through the test kit as a bot would be.
import { describe, expect, it } from "vitest";
import { Bot } from "./bot.ts";
import { createHarness } from "./testing/index.ts";

const newBot = () => new Bot({ name: "t" });

describe("Composer", () => {
  it("use() runs handlers in registration order and nests", async () => {
    const bot = newBot();
    const order: string[] = [];
    bot
      .use(async (_ctx, next) => {
        order.push("a");
        await next();
      })
      .use(async (_ctx, next) => {
        order.push("a.1");
        await next();
      });
    bot.use(() => void order.push("b"));
    const t = await createHarness(bot);
    await t.say("x");
    expect(order).toEqual(["a", "a.1", "b"]);
  });

  it("on() filters by query and passes others on", async () => {
    const bot = newBot();
    const seen: string[] = [];
    bot.on("presence:available", async (ctx, next) => {
      seen.push(`available:${ctx.show}`);
      await next();
    });
    bot.on("message:groupchat:body", (ctx) => void seen.push(`room:${ctx.room}:${ctx.nick}:${ctx.text}`));
    bot.on("message:body", (ctx) => void seen.push(`chat:${ctx.text}`));
    bot.on("presence:subscribe", (ctx) => void seen.push(`subscribe:${ctx.from}`));
    bot.on("presence:unavailable", (ctx) => void seen.push(`gone:${ctx.from}`));
    bot.on("error", (ctx) => void seen.push(`error:${ctx.error.condition}`));
    const t = await createHarness(bot);
    await t.presence("bob@example.org/x", "available", { show: "away" });
    await t.groupchat("r@conf.example.org", "carol", "hi all");
    await t.say("hello");
    await t.subscribe("dave@example.org");
    await t.presence("bob@example.org/x", "unavailable");
    await t.error("eve@example.org", "item-not-found");
    expect(seen).toEqual([
      "available:away",
      "room:r@conf.example.org:carol:hi all",
      "chat:hello",
      "subscribe:dave@example.org",
      "gone:bob@example.org/x",
      "error:item-not-found",
    ]);
  });

  it("on() with several queries matches any", async () => {
    const bot = newBot();
    const seen: string[] = [];
    bot.on(["message:chat", "presence:subscribe"], (ctx) => void seen.push(ctx.kind));
    const t = await createHarness(bot);
    await t.say("a");
    await t.subscribe("x@y.z");
    await t.presence("x@y.z/r");
    expect(seen).toEqual(["message", "presence"]);
  });

  it("unknown filter queries fail at definition time", () => {
    // @ts-expect-error: not a filter query
    expect(() => newBot().on("message:bogus", () => {})).toThrow(/unknown filter query "message:bogus"/);
  });

  it("command() parses name, quoted args and respects prefixes", async () => {
    const bot = new Bot({ name: "t", commandPrefix: ["!", "."] });
    const calls: unknown[] = [];
    bot.command(["remind", "r"], (ctx) => void calls.push([ctx.command, ctx.args, ctx.argsText]));
    const t = await createHarness(bot);
    await t.say('!remind "buy milk" tomorrow');
    await t.say(".R now");
    await t.say("remind me"); // no prefix
    await t.say("!reminder x"); // other command
    expect(calls).toEqual([
      ["remind", ["buy milk", "tomorrow"], '"buy milk" tomorrow'],
      ["r", ["now"], "now"],
    ]);
  });

  it("command() ignores delayed (replayed) messages", async () => {
    const bot = newBot();
    let n = 0;
    bot.command("x", () => void n++);
    const t = await createHarness(bot);
    await t.say("!x", { delayed: true });
    expect(n).toBe(0);
  });

  it("hears() matches strings exactly and regexps with groups", async () => {
    const bot = newBot();
    const got: unknown[] = [];
    bot.hears("hello", (ctx) => void got.push(ctx.match));
    bot.hears(/weather in (\w+)/i, (ctx) => void got.push((ctx.match as RegExpMatchArray)[1]));
    const t = await createHarness(bot);
    await t.say("hello");
    await t.say("hello world"); // not exact
    await t.say("What's the Weather in Paris?");
    expect(got).toEqual(["hello", "Paris"]);
  });

  it("hears() with a global regexp matches every time", async () => {
    const bot = newBot();
    let n = 0;
    bot.hears(/x/g, () => void n++);
    const t = await createHarness(bot);
    await t.say("x");
    await t.say("x");
    expect(n).toBe(2);
  });

  it("filter() with an async predicate", async () => {
    const bot = newBot();
    const seen: string[] = [];
    bot.filter(async (ctx) => ctx.from.startsWith("admin@"), (ctx) => void seen.push(ctx.text ?? ""));
    const t = await createHarness(bot);
    await t.message("admin@x.org/a", "yes");
    await t.message("user@x.org/a", "no");
    expect(seen).toEqual(["yes"]);
  });

  it("branch() picks one side", async () => {
    const bot = newBot();
    bot.branch(
      (ctx) => ctx.text === "a",
      (ctx) => ctx.reply("A"),
      (ctx) => ctx.reply("other"),
    );
    const t = await createHarness(bot);
    await t.say("a");
    await t.say("b");
    expect(t.replies()).toEqual(["A", "other"]);
  });

  it("lazy() builds middleware per stanza", async () => {
    const bot = newBot();
    bot.lazy((ctx) => (ctx.text === "loud" ? (c) => c.reply("LOUD") : (c) => c.reply("quiet")));
    const t = await createHarness(bot);
    await t.say("loud");
    await t.say("x");
    expect(t.replies()).toEqual(["LOUD", "quiet"]);
  });

  it("errorBoundary() catches errors inside and lets later ones through", async () => {
    const bot = newBot();
    const caught: string[] = [];
    const hook: string[] = [];
    bot.catch((err) => void hook.push((err.error as Error).message));
    bot.errorBoundary(
      (err, ctx) => {
        caught.push((err as Error).message);
        return ctx.reply("sorry");
      },
      async (ctx, next) => {
        if (ctx.text === "inside") throw new Error("inside");
        await next();
      },
    );
    bot.on("message:body", () => {
      throw new Error("after");
    });
    const t = await createHarness(bot);
    await t.say("inside");
    await t.say("other");
    expect(caught).toEqual(["inside"]);
    expect(t.replies()).toEqual(["sorry"]);
    expect(hook).toEqual(["after"]);
  });

  it("a throwing handler is logged, handed to the error hook, and later messages still run", async () => {
    const bot = newBot();
    const errors: Array<{ message: string; from: string; stanza: string }> = [];
    bot.catch((err) => void errors.push({ message: (err.error as Error).message, from: err.ctx.from, stanza: err.ctx.stanza.toString() }));
    bot.hears("boom", () => Promise.reject(new Error("kaboom")));
    bot.on("message:body", (ctx) => ctx.reply(`ok ${ctx.text}`));
    const lines: string[] = [];
    const { createConsoleLogger } = await import("./logger.ts");
    const t = await createHarness(bot, { logger: createConsoleLogger({ level: "error", write: (l) => lines.push(l) }) });
    await t.say("boom");
    await t.say("next");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: "kaboom", from: "alice@botrun.test/phone" });
    expect(errors[0]!.stanza).toContain("<body>boom</body>");
    expect(lines.join("\n")).toMatch(/handler failed.*kaboom.*<body>boom<\/body>/s);
    expect(t.replies()).toEqual(["ok next"]);
    expect(t.runtime.stats.errors).toBe(1);
  });

  it("an error hook that throws does not crash the bot", async () => {
    const bot = newBot();
    bot.catch(() => {
      throw new Error("hook broke");
    });
    bot.hears("boom", () => {
      throw new Error("x");
    });
    bot.on("message:body", (ctx) => ctx.reply("alive"));
    const t = await createHarness(bot);
    await t.say("boom");
    await t.say("still?");
    expect(t.replies()).toEqual(["alive"]);
  });

  it("next() called twice is reported as a handler error", async () => {
    const bot = newBot();
    const errs: string[] = [];
    bot.catch((e) => void errs.push((e.error as Error).name));
    bot.use(async (_ctx, next) => {
      await next();
      await next();
    });
    const t = await createHarness(bot);
    await t.say("x");
    expect(errs).toEqual(["NextCalledTwiceError"]);
  });

  it("warns in development mode when a middleware forgets to await next()", async () => {
    const bot = newBot();
    bot.use((_ctx, next) => {
      void next();
    });
    bot.use(async () => {
      await new Promise((r) => setTimeout(r, 5));
    });
    const lines: string[] = [];
    const { createConsoleLogger } = await import("./logger.ts");
    const t = await createHarness(bot, { logger: createConsoleLogger({ level: "warn", write: (l) => lines.push(l) }) });
    await t.say("x");
    expect(lines.some((l) => l.includes("forget to `await next()`"))).toBe(true);
  });

  it("handles one chat's messages in order even when handlers take different times", async () => {
    const bot = newBot();
    const done: string[] = [];
    bot.on("message:body", async (ctx) => {
      await new Promise((r) => setTimeout(r, ctx.text === "slow" ? 20 : 1));
      done.push(ctx.text);
    });
    const t = await createHarness(bot);
    const { message } = await import("./stanza.ts");
    for (const text of ["slow", "fast"]) {
      const el = message({ to: "bot@botrun.test", body: text });
      el.attrs.from = "alice@botrun.test/x";
      t.transport.receive(el);
    }
    await t.settle();
    expect(done).toEqual(["slow", "fast"]);
  });
});

describe("runtime robustness", () => {
  it("a stuck handler does not block its chat forever", async () => {
    const { BotRuntime } = await import("./runtime/runtime.ts");
    const { TestTransport } = await import("./testing/index.ts");
    const { message } = await import("./stanza.ts");
    const bot = newBot();
    bot.on("message:body", async (ctx) => {
      if (ctx.text === "hang") await new Promise(() => {});
      await ctx.reply(`got ${ctx.text}`);
    });
    const transport = new TestTransport();
    const { createConsoleLogger } = await import("./logger.ts");
    const lines: string[] = [];
    const rt = new BotRuntime(bot, transport, { handlerTimeoutMs: 20, logger: createConsoleLogger({ write: (l) => lines.push(l) }) });
    await rt.start();
    for (const text of ["hang", "after"]) {
      const el = message({ to: "bot@botrun.test", body: text });
      el.attrs.from = "alice@botrun.test/x";
      transport.receive(el);
    }
    await transport.nextSend();
    expect(transport.sent.map((e) => e.getChildText("body"))).toEqual(["got after"]);
    expect(lines.some((l) => l.includes("handler still running"))).toBe(true);
  });
});

describe("send transformers", () => {
  it("wrap every outgoing stanza in install order and may change or drop it", async () => {
    const { xml } = await import("./stanza.ts");
    const order: string[] = [];
    const bot = new Bot({
      name: "t",
      plugins: [
        {
          name: "outer",
          transformSend: async (stanza, next) => {
            order.push("outer");
            if (stanza.getChildText("body") === "secret") return; // dropped
            await next(stanza);
          },
        },
      ],
    });
    bot.transformSend(async (stanza, next) => {
      order.push("inner");
      stanza.append(xml("active", { xmlns: "http://jabber.org/protocol/chatstates" }));
      await next(stanza);
    });
    bot.on("message:body", (ctx) => ctx.reply(ctx.text));
    const t = await createHarness(bot);
    await t.say("hello");
    await t.say("secret");
    expect(order).toEqual(["outer", "inner", "outer"]);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]!.getChild("active")).toBeDefined();
  });
});

describe("predicates written in plain JS", () => {
  it("filter() accepts truthy/falsy non-boolean results", async () => {
    const bot = newBot();
    const seen: string[] = [];
    bot.filter(((ctx: { text?: string }) => ctx.text && ctx.text.startsWith("y")) as unknown as (c: unknown) => boolean, (ctx) => void seen.push(ctx.text ?? ""));
    const t = await createHarness(bot);
    await t.say("yes");
    await t.say("no");
    await t.presence("x@y.z/r"); // predicate returns undefined
    expect(seen).toEqual(["yes"]);
  });

  it("createHarness waits for plugins' online hooks that do async work", async () => {
    const events: string[] = [];
    const bot = new Bot({
      name: "t",
      plugins: [
        {
          name: "slow-online",
          online: async () => {
            await new Promise((r) => setTimeout(r, 10));
            events.push("joined");
          },
        },
      ],
    });
    await createHarness(bot);
    expect(events).toEqual(["joined"]);
  });
});
