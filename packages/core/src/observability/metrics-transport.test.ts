// Metrics read from the transport's own counters at scrape time: outbound drops by reason, outbox
// rejections, intake pauses (counted once each, however often /metrics is scraped).
import { describe, expect, it } from "vitest";
import { ServiceMetrics } from "./metrics.ts";
import { Bot } from "../bot.ts";
import { BotRuntime } from "../runtime/runtime.ts";
import { TestTransport } from "../testing/index.ts";
import { silentLogger } from "../logger.ts";

const sample = (text: string, name: string) => {
  const m = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  return m === undefined ? undefined : Number(m.split(" ").pop());
};

describe("transport counters in /metrics", () => {
  it("exports drops, rejections and intake pauses as counters and the paused state as a gauge", async () => {
    const stats = { droppedTooLarge: 0, droppedRefused: 0, outboxRejected: 0, intakePauses: 0, intakePaused: false };
    const transport = Object.assign(new TestTransport({ jid: "echo@botrun.test/r" }), { stats });
    const runtime = new BotRuntime(new Bot({ name: "echo" }), transport, { logger: silentLogger });
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    metrics.watch({ name: "echo", runtime, transport });
    Object.assign(stats, { droppedTooLarge: 2, droppedRefused: 1, outboxRejected: 5, intakePauses: 3, intakePaused: true });
    await metrics.metrics();
    const text = await metrics.metrics(); // a second scrape must not count again
    expect(sample(text, 'botrun_stanzas_dropped_total{bot="echo",reason="too-large"}')).toBe(2);
    expect(sample(text, 'botrun_stanzas_dropped_total{bot="echo",reason="refused-by-server"}')).toBe(1);
    expect(sample(text, 'botrun_outbox_rejected_total{bot="echo"}')).toBe(5);
    expect(sample(text, 'botrun_intake_pauses_total{bot="echo"}')).toBe(3);
    expect(sample(text, 'botrun_intake_paused{bot="echo"}')).toBe(1);
    stats.droppedTooLarge = 4;
    stats.intakePaused = false;
    const later = await metrics.metrics();
    expect(sample(later, 'botrun_stanzas_dropped_total{bot="echo",reason="too-large"}')).toBe(4);
    expect(sample(later, 'botrun_intake_paused{bot="echo"}')).toBe(0);
  });
});
