/**
 * The metrics `ServiceMetrics` reads when `/metrics` is scraped, not on events: the counters a
 * transport keeps itself (added as deltas since the last scrape) and the depths of the outbox,
 * the plugins' throttle queues, the inbound backlog and the XEP-0198 unacknowledged stanzas.
 */
import type { Counter, Registry } from "prom-client";
import { promClient } from "./prom-client.ts";
import type { WatchedBot } from "./watched-bot.ts";

/** Adds to counter `c` what a transport counted (`value`, which only grows) since the last scrape, under `key` per bot. */
export type AddDelta = (c: Counter<"bot" | "reason"> | Counter<"bot">, bot: string, key: string, value: number, labels: Record<string, string>) => void;

/** An `AddDelta` remembering the last value per bot and key. */
export function counterDeltas(): AddDelta {
  const seen = new Map<string, number>();
  return (c, bot, key, value, labels) => {
    const k = `${bot}\u0000${key}`;
    const delta = value - (seen.get(k) ?? 0);
    seen.set(k, value);
    if (delta > 0) (c as Counter<string>).inc(labels, delta);
  };
}

/** The watched bots, by name (read at each scrape). */
export type WatchedBots = ReadonlyMap<string, { bot: WatchedBot }>;

/** Register the outbox-rejection and intake-pause metrics the transports count themselves. */
export function registerTransportCounters(registers: Registry[], bots: WatchedBots, addFrom: AddDelta): void {
  const { Counter, Gauge } = promClient();
  new Counter({
    name: "botrun_outbox_rejected_total",
    help: "send() calls rejected because the outbox was full (XMPP_OUTBOX_OVERFLOW=reject)",
    labelNames: ["bot"],
    registers,
    collect() {
      for (const { bot } of bots.values()) if (bot.transport.stats) addFrom(this, bot.name, "rejected", bot.transport.stats.outboxRejected, { bot: bot.name });
    },
  });
  new Counter({
    name: "botrun_intake_pauses_total",
    help: "Times the bot stopped reading from the server because its outbox passed the high-water mark",
    labelNames: ["bot"],
    registers,
    collect() {
      for (const { bot } of bots.values()) if (bot.transport.stats) addFrom(this, bot.name, "pauses", bot.transport.stats.intakePauses, { bot: bot.name });
    },
  });
  new Gauge({
    name: "botrun_intake_paused",
    help: "1 while the bot is not reading from the server (outbox or backlog over its high-water mark)",
    labelNames: ["bot"],
    registers,
    collect() {
      for (const { bot } of bots.values()) if (bot.transport.stats) this.set({ bot: bot.name }, bot.transport.stats.intakePaused ? 1 : 0);
    },
  });
}

/** Register the depth gauges: outbox, plugins' throttle queues, inbound backlog, unacknowledged stanzas. */
export function registerDepthGauges(registers: Registry[], bots: WatchedBots): void {
  const { Gauge } = promClient();
  new Gauge({
    name: "botrun_outbox_depth",
    help: "Stanzas waiting in the outbox",
    labelNames: ["bot"],
    registers,
    collect() {
      for (const { bot } of bots.values()) this.set({ bot: bot.name }, bot.transport.outboxDepth ?? 0);
    },
  });
  new Gauge({
    name: "botrun_throttle_depth",
    help: "Outgoing stanzas held back by plugins (the outbound throttle's queue), before the outbox",
    labelNames: ["bot"],
    registers,
    collect() {
      for (const { bot } of bots.values()) {
        this.set({ bot: bot.name }, (bot.runtime.bot?.plugins ?? []).reduce((n, p) => n + (p.queued?.() ?? 0), 0));
      }
    },
  });
  new Gauge({
    name: "botrun_backlog",
    help: "Inbound stanzas received and not yet handled (queued behind their chat or running); bounded by maxBacklog",
    labelNames: ["bot"],
    registers,
    collect() {
      for (const { bot } of bots.values()) this.set({ bot: bot.name }, bot.runtime.backlog ?? 0);
    },
  });
  new Gauge({
    name: "botrun_unacked_stanzas",
    help: "Stanzas sent but not yet acknowledged by the server (XEP-0198)",
    labelNames: ["bot"],
    registers,
    collect() {
      for (const { bot } of bots.values()) this.set({ bot: bot.name }, bot.transport.unackedCount ?? 0);
    },
  });
}
