// The runtime's stop sequence: pause inbound first, handle (not drop) what still arrives until the
// transport has stopped, drop only afterwards.
import { describe, expect, it } from "vitest";
import type { Element } from "@xmpp/xml";
import { Bot } from "../bot.ts";
import { createConsoleLogger, silentLogger } from "../logger.ts";
import { message } from "../stanza.ts";
import { TestTransport } from "../testing/test-transport.ts";
import { BotRuntime } from "./runtime.ts";

/** A test transport that records the order of lifecycle calls and can deliver during `stop()`. */
class RecordingTransport extends TestTransport {
  readonly calls: string[] = [];
  onStop: (() => void) | undefined;
  pauseInbound(): void {
    this.calls.push("pauseInbound");
  }
  override async stop(): Promise<void> {
    this.calls.push("stop");
    this.onStop?.();
    await super.stop();
  }
}

const chat = (body: string): Element => {
  const el = message({ to: "bot@botrun.test/test", type: "chat", body });
  el.attrs.from = "alice@botrun.test/x";
  return el;
};

describe("BotRuntime.stop", () => {
  it("pauses inbound before draining, handles stanzas delivered until the transport stopped, drops later ones", async () => {
    const handled: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const bot = new Bot({ name: "t" });
    bot.on("message:body", async (ctx) => {
      handled.push(ctx.text);
      if (ctx.text === "slow") await gate;
    });
    const transport = new RecordingTransport();
    const rt = new BotRuntime(bot, transport, { logger: silentLogger, drainTimeoutMs: 5000 });
    const order: string[] = [];
    rt.on("handled", ({ ctx }) => order.push(`handled:${ctx.text ?? ""}`));
    transport.onStop = () => transport.receive(chat("during-transport-stop"));
    await rt.start();

    transport.receive(chat("slow"));
    const stopped = rt.stop();
    expect(transport.calls).toEqual(["pauseInbound"]);
    // Still delivered after pauseInbound (e.g. no XEP-0198): handled, not dropped.
    transport.receive(chat("while-draining"));
    release();
    await stopped;
    expect(transport.calls).toEqual(["pauseInbound", "stop"]);
    // The drain waited for the slow handler and the one queued behind it before stopping the transport.
    expect(order.slice(0, 2)).toEqual(["handled:slow", "handled:while-draining"]);
    expect(handled).toEqual(["slow", "while-draining", "during-transport-stop"]);
    expect(rt.stats.dropped).toBe(0);

    transport.receive(chat("after-stop"));
    expect(rt.stats.dropped).toBe(1);
    expect(handled).not.toContain("after-stop");
  });

  it("a plugin whose stop never settles is left behind after the stop budget; later plugins and the transport still stop", async () => {
    const lines: string[] = [];
    const stoppedPlugins: string[] = [];
    const bot = new Bot({ name: "t" });
    bot.install({ name: "careful", stop: () => void stoppedPlugins.push("careful") });
    bot.install({ name: "stuck", stop: () => new Promise<void>(() => {}) });
    bot.install({ name: "failing", stop: () => Promise.reject(new Error("boom")) });
    const transport = new RecordingTransport();
    const rt = new BotRuntime(bot, transport, { logger: createConsoleLogger({ level: "warn", write: (l) => void lines.push(l) }), drainTimeoutMs: 200 });
    await rt.start();
    const t0 = Date.now();
    await rt.stop();
    // The stuck plugin got at least the 1 s minimum, and not much more.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(990);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(stoppedPlugins).toEqual(["careful"]);
    expect(transport.calls).toEqual(["pauseInbound", "stop"]);
    expect(lines.join("\n")).toMatch(/plugin did not stop in time.*stuck/);
    expect(lines.join("\n")).toMatch(/plugin stop failed.*failing/);
  });

  it("works with transports without pauseInbound", async () => {
    const bot = new Bot({ name: "t" });
    const seen: string[] = [];
    bot.on("message:body", (ctx) => void seen.push(ctx.text));
    const transport = new TestTransport();
    const rt = new BotRuntime(bot, transport, { logger: silentLogger });
    await rt.start();
    const stopped = rt.stop();
    transport.receive(chat("late"));
    await stopped;
    expect(seen).toEqual(["late"]);
  });
});
