// The runtime's inbound backlog bound: past maxBacklog it asks the transport to stop reading and
// resumes at the low-water mark (nothing lost, order kept); a stanza that outlives the handler
// timeout counts until it really finishes; a transport that cannot pause gets a hard cap.
import { describe, expect, it } from "vitest";
import type { Element } from "@xmpp/xml";
import { createConsoleLogger } from "../logger.ts";
import { ServiceMetrics } from "../observability/metrics.ts";
import { message, xml } from "../stanza.ts";
import { TestTransport } from "../testing/test-transport.ts";
import { BotRuntime } from "./runtime.ts";
import { slowBot } from "../../test-support/slow-bot.ts";

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setImmediate(r));
};

/** A test transport that reads like a socket: while paused, what the "network" brings waits. */
class PausableTransport extends TestTransport {
  paused = false;
  pauses = 0;
  readonly #network: Element[] = [];
  setInboundPressure(paused: boolean): void {
    if (paused && !this.paused) this.pauses++;
    this.paused = paused;
    this.#read();
  }
  /** The server delivers `el`: read at once unless paused. */
  deliver(el: Element): void {
    this.#network.push(el);
    this.#read();
  }
  /** Stanzas waiting "at the server". */
  get waiting(): number {
    return this.#network.length;
  }
  #read(): void {
    while (!this.paused && this.#network.length) this.receive(this.#network.shift()!);
  }
}

const chat = (body: string, from = "alice@botrun.test/x"): Element => {
  const el = message({ to: "bot@botrun.test/test", type: "chat", body });
  el.attrs.from = from;
  return el;
};

describe("backlog bound", () => {
  it("past maxBacklog the transport stops reading; handled below the low-water mark it reads again; nothing lost, order kept", async () => {
    const { bot, handled, release } = slowBot();
    const lines: string[] = [];
    const transport = new PausableTransport();
    const rt = new BotRuntime(bot, transport, { logger: createConsoleLogger({ level: "warn", write: (l) => void lines.push(l) }), maxBacklog: 100 });
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    metrics.watch({ name: "t", runtime: rt, transport });
    await rt.start();
    let peak = 0;
    for (let i = 0; i < 5000; i++) {
      transport.deliver(chat(String(i)));
      peak = Math.max(peak, rt.backlog);
    }
    expect(peak).toBe(100);
    expect(transport.paused).toBe(true);
    expect(transport.waiting).toBe(4900);
    expect(await metrics.metrics()).toMatch(/^botrun_backlog\{bot="t"\} 100$/m);
    expect(lines.filter((l) => /overloaded/.test(l))).toHaveLength(1);
    release();
    await rt.idle();
    while (transport.waiting || rt.backlog) await rt.idle();
    expect(handled).toEqual(Array.from({ length: 5000 }, (_, i) => String(i)));
    expect(transport.paused).toBe(false);
    expect(transport.pauses).toBeGreaterThan(1);
    expect(rt.stats.dropped).toBe(0);
    expect(lines.filter((l) => /overloaded/.test(l))).toHaveLength(1); // once per interval, not per pause
    await rt.stop();
  });

  it("a stanza past the handler timeout counts until it really finishes", async () => {
    const { bot, handled, release } = slowBot();
    const transport = new PausableTransport();
    let timedOut = 0;
    let allTimedOut!: () => void;
    const waitTimedOut = new Promise<void>((r) => (allTimedOut = r));
    const logger = createConsoleLogger({ level: "warn", write: (l) => void (/handler still running/.test(l) && ++timedOut === 10 && allTimedOut()) });
    const rt = new BotRuntime(bot, transport, { logger, maxBacklog: 10, handlerTimeoutMs: 1 });
    await rt.start();
    for (let i = 0; i < 50; i++) transport.deliver(chat(String(i)));
    // The timeouts let the chat's queue move on through all 10; the stuck stanzas still count.
    await waitTimedOut;
    expect(rt.backlog).toBe(10);
    expect(transport.waiting).toBe(40);
    expect(transport.paused).toBe(true);
    release();
    while (transport.waiting || rt.backlog) await rt.idle();
    expect(handled).toHaveLength(50);
    await rt.stop();
  });

  it("a transport that cannot pause: past the hard cap (10 × maxBacklog) stanzas are refused, with one warning", async () => {
    const { bot, handled, release } = slowBot();
    const lines: string[] = [];
    const transport = new TestTransport();
    const rt = new BotRuntime(bot, transport, { logger: createConsoleLogger({ level: "warn", write: (l) => void lines.push(l) }), maxBacklog: 10 });
    const dropped: string[] = [];
    rt.on("dropped", ({ reason }) => void dropped.push(reason));
    await rt.start();
    for (let i = 0; i < 150; i++) transport.receive(chat(String(i)));
    expect(rt.backlog).toBe(100);
    expect(dropped).toEqual(Array(50).fill("backlog-full"));
    // A refused iq get is still answered (RFC 6120 §8.2.3): resource-constraint, retry later.
    transport.receive(xml("iq", { from: "alice@botrun.test/x", to: "bot@botrun.test/test", type: "get", id: "p1" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    await until(() => transport.sent.some((el) => el.attrs.id === "p1"));
    const answer = transport.sent.find((el) => el.attrs.id === "p1")!;
    expect(answer.attrs.type).toBe("error");
    expect(answer.getChild("error")?.getChild("resource-constraint")).toBeDefined();
    expect(lines.filter((l) => /hard cap/.test(l) && /refused/.test(l))).toHaveLength(2); // the overload line and one refusal line
    release();
    await rt.idle();
    expect(handled).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(rt.backlog).toBe(0);
    await rt.stop();
  });
});
