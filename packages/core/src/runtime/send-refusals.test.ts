// A handler whose reply the outbox or throttle refused (overload) is logged once per interval with a
// count, not one "handler failed" line per stanza; a real handler bug keeps its own line each time.
import { describe, expect, it } from "vitest";
import { Bot } from "../bot.ts";
import { createConsoleLogger } from "../logger.ts";
import type { Plugin } from "../plugin.ts";
import { createHarness } from "../testing/index.ts";
import { OutboxFullError } from "../xmpp/errors.ts";
import { SendRefusals } from "./send-refusals.ts";

/** A plugin refusing every message the bot sends, as a full throttle would (matched by name, as the plugins' class is). */
const fullThrottle = (): Plugin => ({
  name: "full-throttle",
  transformSend: (el, send) => (el.name === "message" ? Promise.reject(Object.assign(new Error("outbound throttle full"), { name: "ThrottleFullError" })) : send(el)),
});

describe("replies refused under overload", () => {
  it("five refused replies: one warning at once, the rest counted on one line at stop; no `handler failed`", async () => {
    const lines: string[] = [];
    const bot = new Bot({ name: "busy", plugins: [fullThrottle()] });
    bot.on("message:body", async (ctx) => {
      if (ctx.text === "bug") throw new Error("a real bug");
      await ctx.reply(ctx.text);
    });
    const t = await createHarness(bot, { logger: createConsoleLogger({ level: "info", write: (l) => lines.push(l) }) });
    for (let i = 0; i < 5; i++) await t.say(`hi ${i}`);
    await t.say("bug");
    await t.say("bug");
    const refused = () => lines.filter((l) => l.includes("replies refused"));
    expect(refused()).toHaveLength(1);
    expect(refused()[0]).toMatch(/count=1\b/);
    expect(refused()[0]).toContain("ThrottleFullError");
    expect(lines.filter((l) => l.includes("handler failed"))).toHaveLength(2); // the bugs, each on its line
    expect(lines.filter((l) => l.includes("handler failed")).every((l) => l.includes("a real bug"))).toBe(true);
    await t.runtime.stop();
    expect(refused()).toHaveLength(2);
    expect(refused()[1]).toMatch(/count=4\b/);
    expect(t.runtime.stats.errors).toBe(7);
  });

  it("one line per interval: a refusal after 10 s writes a new line with what was counted", () => {
    const warns: string[] = [];
    let now = 0;
    const r = new SendRefusals(createConsoleLogger({ level: "info", write: (l) => warns.push(l) }), () => now);
    expect(r.take(new Error("a bug"))).toBe(false);
    expect(r.take(new OutboxFullError(10))).toBe(true);
    now = 5_000;
    expect(r.take(new OutboxFullError(10))).toBe(true);
    expect(warns).toHaveLength(1);
    now = 10_000;
    r.take(new OutboxFullError(10));
    expect(warns).toHaveLength(2);
    expect(warns[1]).toMatch(/count=2\b/);
  });
});
