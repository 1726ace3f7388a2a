/**
 * Prometheus metrics and per-bot health for a botrun process. Each `ServiceMetrics` owns its
 * own prom-client `Registry` (never the global default), so tests can create several. Bots are
 * attached with `watch()`, which listens to their runtime, transport and token provider events.
 */
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RuntimeEvents } from "../runtime/options.ts";
import { promClient } from "./prom-client.ts";
import { counterDeltas, registerDepthGauges, registerTransportCounters } from "./scraped-metrics.ts";
import { BOT_STATES, type BotState, type BotStatus, type WatchedBot } from "./watched-bot.ts";

export { promClient } from "./prom-client.ts"; // imported from here by cli/unhandled-rejections.ts

/** Options of `ServiceMetrics`. */
export interface ServiceMetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event loop lag, handles); default true. */
  defaultMetrics?: boolean;
}

/** Metrics and health of the bots of one process. */
export class ServiceMetrics {
  /** The registry `/metrics` serves. */
  readonly registry: Registry = new (promClient().Registry)();
  readonly #bots = new Map<string, { bot: WatchedBot; status: BotStatus }>();
  readonly #state: Gauge<"bot" | "state">;
  readonly #online: Gauge<"bot">;
  readonly #reconnects: Counter<"bot">;
  readonly #refreshes: Counter<"bot">;
  readonly #refreshFailures: Counter<"bot" | "permanent">;
  readonly #in: Counter<"bot">;
  readonly #out: Counter<"bot">;
  readonly #dropped: Counter<"bot" | "reason">;
  readonly #errors: Counter<"bot">;
  readonly #latency: Histogram<"bot">;

  constructor(opts: ServiceMetricsOptions = {}) {
    const { Counter, Gauge, Histogram, collectDefaultMetrics } = promClient();
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.#state = new Gauge({ name: "botrun_bot_state", help: "1 for the bot's current connection state", labelNames: ["bot", "state"], registers });
    this.#online = new Gauge({ name: "botrun_bot_online", help: "1 while the bot has a session", labelNames: ["bot"], registers });
    this.#reconnects = new Counter({ name: "botrun_reconnects_total", help: "Reconnect attempts scheduled", labelNames: ["bot"], registers });
    this.#refreshes = new Counter({ name: "botrun_token_refreshes_total", help: "OAuth access tokens refreshed", labelNames: ["bot"], registers });
    this.#refreshFailures = new Counter({
      name: "botrun_token_refresh_failures_total",
      help: "Failed OAuth token refreshes (permanent=true: consent gone)",
      labelNames: ["bot", "permanent"],
      registers,
    });
    this.#in = new Counter({ name: "botrun_stanzas_in_total", help: "Inbound stanzas (messages, presences, iqs) handled", labelNames: ["bot"], registers });
    this.#out = new Counter({ name: "botrun_stanzas_out_total", help: "Stanzas the bot sent", labelNames: ["bot"], registers });
    const bots = this.#bots;
    // Counters the transport keeps itself: each scrape adds what it counted since the last one.
    const addFrom = counterDeltas();
    this.#dropped = new Counter({
      name: "botrun_stanzas_dropped_total",
      help: "Stanzas dropped: inbound before the pipeline (reason as given), outbound too-large (over the server's size limit, never sent) or refused-by-server (policy-violation, never resent)",
      labelNames: ["bot", "reason"],
      registers,
      collect() {
        for (const { bot } of bots.values()) {
          const st = bot.transport.stats;
          if (!st) continue;
          addFrom(this, bot.name, "too-large", st.droppedTooLarge, { bot: bot.name, reason: "too-large" });
          addFrom(this, bot.name, "refused", st.droppedRefused, { bot: bot.name, reason: "refused-by-server" });
          addFrom(this, bot.name, "too-deep", st.droppedTooDeep ?? 0, { bot: bot.name, reason: "too-deep" });
        }
      },
    });
    registerTransportCounters(registers, bots, addFrom);
    this.#errors = new Counter({ name: "botrun_handler_errors_total", help: "Handlers that threw or rejected", labelNames: ["bot"], registers });
    this.#latency = new Histogram({
      name: "botrun_handler_duration_seconds",
      help: "Time from a stanza entering the pipeline to the pipeline finishing",
      labelNames: ["bot"],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    registerDepthGauges(registers, bots);
  }

  /** Start watching a bot; returns a function that stops watching (its metrics stay). */
  watch(bot: WatchedBot): () => void {
    if (this.#bots.has(bot.name)) throw new Error(`bot "${bot.name}" is already watched`);
    const status: BotStatus = { state: "starting", transport: bot.transport.kind, since: Date.now(), reconnects: 0 };
    this.#bots.set(bot.name, { bot, status });
    const b = { bot: bot.name };
    this.#setState(bot.name, status, "starting");
    for (const c of [this.#reconnects, this.#refreshes, this.#in, this.#out, this.#errors]) c.inc(b, 0);
    for (const permanent of ["false", "true"]) this.#refreshFailures.inc({ ...b, permanent }, 0);

    const t = bot.transport;
    const rt = bot.runtime;
    const onOnline = (p: { jid: string }) => {
      status.jid = p.jid;
      this.#setState(bot.name, status, "online");
    };
    const onOffline = () => this.#setState(bot.name, status, "offline");
    const onReconnecting = () => {
      status.reconnects++;
      this.#reconnects.inc(b);
      this.#setState(bot.name, status, "reconnecting");
    };
    const onFatal = (p: { exitCode: number }) => {
      status.exitCode = p.exitCode;
      this.#setState(bot.name, status, "failed");
    };
    // Per-stanza metrics use children bound once: no label hashing on the hot path.
    const inBot = this.#in.labels(b);
    const outBot = this.#out.labels(b);
    const latencyBot = this.#latency.labels(b);
    const onHandled = (p: RuntimeEvents["handled"]) => {
      inBot.inc();
      latencyBot.observe(p.durationMs / 1000);
    };
    const onSent = () => outBot.inc();
    const onError = () => this.#errors.inc(b);
    const onDropped = (p: RuntimeEvents["dropped"]) => this.#dropped.inc({ ...b, reason: p.reason });
    const onStopped = (p: RuntimeEvents["stopped"]) => {
      status.exitCode = p.exitCode;
      this.#setState(bot.name, status, p.exitCode === 0 ? "stopped" : "failed");
    };
    t.on("online", onOnline);
    t.on("resumed", onOnline);
    t.on("offline", onOffline);
    t.on("reconnecting", onReconnecting);
    t.on("fatal", onFatal);
    rt.on("handled", onHandled);
    rt.on("sent", onSent);
    rt.on("handler-error", onError);
    rt.on("dropped", onDropped);
    rt.on("stopped", onStopped);
    // Token events come from the provider itself (the transport forwards only successes).
    const tp = bot.tokenProvider;
    let active = true;
    tp?.on?.("refreshed", () => active && this.#refreshes.inc(b));
    tp?.on?.("refresh-failed", (p) => active && this.#refreshFailures.inc({ ...b, permanent: String(p.permanent) }));
    return () => {
      active = false;
      t.off("online", onOnline);
      t.off("resumed", onOnline);
      t.off("offline", onOffline);
      t.off("reconnecting", onReconnecting);
      t.off("fatal", onFatal);
      rt.off("handled", onHandled);
      rt.off("sent", onSent);
      rt.off("handler-error", onError);
      rt.off("dropped", onDropped);
      rt.off("stopped", onStopped);
    };
  }

  /** Every watched bot's status, by name. */
  status(): Record<string, BotStatus> {
    const out: Record<string, BotStatus> = {};
    for (const [name, { status }] of this.#bots) out[name] = { ...status };
    return out;
  }

  /** True when at least one bot is watched and every bot is online. */
  get ready(): boolean {
    if (this.#bots.size === 0) return false;
    for (const { status } of this.#bots.values()) if (status.state !== "online") return false;
    return true;
  }

  /** The Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  #setState(name: string, status: BotStatus, state: BotState): void {
    // A stopped or failed bot stays so: late transport events must not revive it.
    if ((status.state === "stopped" || status.state === "failed") && state !== "stopped" && state !== "failed") return;
    if (status.state === "failed" && state === "stopped") return;
    if (state !== "online") status.jid = undefined;
    status.state = state;
    status.since = Date.now();
    for (const s of BOT_STATES) this.#state.set({ bot: name, state: s }, s === state ? 1 : 0);
    this.#online.set({ bot: name }, state === "online" ? 1 : 0);
  }
}
