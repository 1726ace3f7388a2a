/**
 * The runtime: attaches a bot to a transport, builds a context per inbound stanza,
 * runs the pipeline (per-chat in order), contains handler errors, and stops gracefully.
 * This file holds the per-stanza path; the cold parts are beside it: assembly.ts (backlog,
 * pipelines, context members), plugin-hosts.ts, bot-api.ts, stop-sequence.ts, handler-failure.ts.
 */
import type { Element } from "@xmpp/xml";
import type { Bot } from "../bot.ts";
import type { MiddlewareFn } from "../compose.ts";
import { Context, type BotApi, type ContextConstructor, type ContextOptions, type StanzaKind } from "../context.ts";
import { TypedEmitter } from "../emitter.ts";
import { bare } from "../jid.ts";
import { addCaps, capsVer } from "../iq/caps.ts";
import { collectInfo, type DiscoInfo } from "../iq/disco-info.ts";
import { IqAnswers } from "../iq/answer.ts";
import { IqRequests, type RequestOptions } from "../iq/requests.ts";
import type { BuiltinEnv } from "../iq/responder.ts";
import { createConsoleLogger, type Logger } from "../logger.ts";
import type { DispatchOptions, Plugin } from "../plugin.ts";
import { iqError, presence, StanzaError } from "../stanza.ts";
import type { Transport } from "../transport.ts";
import { compilePipelines, declaredExtensions, intakeBacklog } from "./assembly.ts";
import { botApi } from "./bot-api.ts";
import { BUILTINS } from "./builtins.ts";
import { callErrorHook, logHandlerFailure } from "./handler-failure.ts";
import { HandlerWatchdog } from "./handler-watchdog.ts";
import { buildContextClass } from "./context-class.ts";
import type { Backlog } from "./backlog.ts";
import { KeyedSequencer } from "./keyed-sequencer.ts";
import { OwnEchoFilter } from "./own-echo.ts";
import type { RuntimeEvents, RuntimeOptions } from "./options.ts";
import { PluginHosts } from "./plugin-hosts.ts";
import { composeSend } from "./send-chain.ts";
import { SendRefusals } from "./send-refusals.ts";
import { stopSequence } from "./stop-sequence.ts";

export type { RuntimeEvents, RuntimeOptions } from "./options.ts";

/** Runs one bot on one transport. */
export class BotRuntime<C extends Context = Context> extends TypedEmitter<RuntimeEvents> {
  readonly bot: Bot<C>;
  readonly transport: Transport;
  readonly log: Logger;
  readonly api: BotApi;
  readonly #dev: boolean;
  readonly #drainTimeoutMs: number;
  readonly #handlerTimeoutMs: number;
  readonly #sequencer: KeyedSequencer | undefined;
  readonly #sequenceKey: (ctx: Context) => string;
  /** Work in progress (stanzas, online hooks), and who waits for it to be none (`idle()`). */
  #busy = 0;
  #idleWaiters: (() => void)[] = [];
  readonly #untrack = (): void => {
    if (--this.#busy === 0) for (const w of this.#idleWaiters.splice(0)) w();
  };
  readonly #watchdog: HandlerWatchdog | undefined;
  readonly #backlog: Backlog;
  readonly #echoes = new OwnEchoFilter();
  /** The bot's context class with the plugins' and the host's members (built at start). */
  #Ctx: ContextConstructor<C>;
  readonly #hostContext: RuntimeOptions["context"];
  readonly #liveInit: ContextOptions = { inRoom: (room) => this.#echoes.inRoom(room) };
  readonly #caughtUpInit: ContextOptions = { ...this.#liveInit, caughtUp: true };
  /** The compiled pipeline per stanza kind: the built-ins that handle that kind, then the bot's. */
  #pipelines: Record<StanzaKind, MiddlewareFn<C>> | undefined;
  #send: (stanza: Element) => Promise<void>;
  readonly #hosts: PluginHosts = new PluginHosts(this);
  readonly #requests: IqRequests;
  readonly #answers: IqAnswers;
  readonly #builtins: readonly Plugin[];
  /** Plugins with a `queued()` count (the backlog's pressure), fixed at start. */
  #holders: readonly Plugin<C>[] = [];
  #info: DiscoInfo = { identities: [], features: [] };
  #ver = "";
  #lastMessageAt: number | undefined;
  #state: "idle" | "starting" | "running" | "stopping" | "stopped" = "idle";
  #stopPromise: Promise<void> | undefined;
  /** Counters for logs and metrics. */
  readonly stats = { received: 0, handled: 0, errors: 0, sent: 0, dropped: 0 };
  /** Handlers failed because a reply was refused (overload): one line per interval, not per stanza. */
  readonly #refusals: SendRefusals;

  constructor(bot: Bot<C>, transport: Transport, opts: RuntimeOptions = {}) {
    super();
    this.bot = bot;
    this.transport = transport;
    this.log = (opts.logger ?? createConsoleLogger()).child({ bot: bot.name });
    this.#refusals = new SendRefusals(this.log);
    this.#dev = opts.dev ?? process.env.NODE_ENV !== "production";
    this.#drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;
    this.#handlerTimeoutMs = opts.handlerTimeoutMs ?? 60_000;
    // A Bot from another copy of @botrun/core (isBot accepts one) may predate ContextConstructor.
    this.#Ctx = bot.ContextConstructor ?? (Context as unknown as ContextConstructor<C>);
    this.#hostContext = opts.context;
    this.#watchdog = this.#handlerTimeoutMs > 0 ? new HandlerWatchdog(this.#handlerTimeoutMs) : undefined;
    this.#sequencer = opts.sequential === false ? undefined : new KeyedSequencer();
    this.#sequenceKey = opts.sequenceKey ?? chatKey;
    // Replies plugins hold back (the throttle) count too: intake pauses before they overflow.
    const held = (): number => {
      // Twice per stanza (admit, done): an indexed loop allocates no iterator.
      const holders = this.#holders;
      let n = 0;
      for (let i = 0; i < holders.length; i++) n += holders[i]!.queued!();
      return n;
    };
    this.#backlog = intakeBacklog(opts.maxBacklog, transport, held, this.log);
    this.#send = (stanza) => this.#toTransport(stanza);
    this.#requests = new IqRequests({ send: (stanza) => this.send(stanza), self: () => this.transport.jid });
    this.#answers = new IqAnswers((stanza) => this.send(stanza), this.log);
    const env: BuiltinEnv = {
      botName: bot.name,
      info: () => this.#info,
      capsVer: () => this.#ver,
      plugins: () => this.#plugins() as unknown as readonly Plugin[],
      versionOs: opts.versionOs,
      startedAt: Date.now(),
      lastMessageAt: () => this.#lastMessageAt,
    };
    this.#builtins = BUILTINS.map((b) => b.make(env));
    this.api = botApi(this, bot.name, bot.commandPrefixes, this.log);
  }

  /** True while running (started and not stopping). */
  get running(): boolean {
    return this.#state === "running";
  }

  /** Number of stanzas being handled now. */
  get inflight(): number {
    return this.#busy;
  }

  /** Stanzas received and not yet finished (see `RuntimeOptions.maxBacklog`). */
  get backlog(): number {
    return this.#backlog.count;
  }

  /** Compile the pipeline, start plugins, connect the transport. */
  async start(): Promise<void> {
    if (this.#state !== "idle") throw new Error(`runtime already ${this.#state}`);
    this.#state = "starting";
    const own = this.bot.compileWith(
      this.#dev ? { onUnawaitedNext: (e) => this.log.warn(e.message, { hint: "add `await` before next()" }) } : {},
    );
    this.#pipelines = compilePipelines(this.#builtins, own);
    this.#holders = this.#plugins().filter((p) => p.queued !== undefined);
    this.#Ctx = buildContextClass(this.#Ctx, declaredExtensions(this.#plugins(), this.#hostContext));
    const builtinTx = this.#builtins.flatMap((p) => (p.transformSend ? [p.transformSend] : []));
    this.#send = composeSend([...this.bot.sendTransformers, ...builtinTx], (stanza) => this.#toTransport(stanza));
    this.#info = collectInfo(this.bot.name, [...this.#plugins(), { features: this.bot.features }]);
    this.#ver = capsVer(this.#info);
    this.transport.initialPresence = () => addCaps(presence(), this.#ver);
    this.transport.beforeInitialPresence = () => this.#hosts.builtinsOnline;
    this.transport.on("stanza", (el) => void this.handle(el));
    this.transport.on("online", ({ jid, rosterVersioning }) => this.#track(this.#onOnline(jid, rosterVersioning)));
    for (const plugin of this.#plugins()) await plugin.start?.(this.#hosts.of(plugin.name));
    this.#state = "running";
    await this.transport.start();
  }

  /**
   * Send a stanza through the bot's send transformers to the transport. A second answer to an
   * inbound iq is dropped here (RFC 6120 §8.2.3: exactly one reply), whoever sends it.
   */
  send(stanza: Element): Promise<void> {
    return this.#answers.admit(stanza) ? this.#send(stanza) : Promise.resolve();
  }

  /** The built-in plugins, then the bot's. */
  #plugins(): readonly Plugin<C>[] {
    return [...(this.#builtins as readonly Plugin<C>[]), ...this.bot.plugins];
  }

  /** Send an iq get/set and wait for its reply (see `BotApi.request`). */
  request(iq: Element, opts?: RequestOptions): Promise<Element> {
    return this.#requests.request(iq, opts);
  }

  #toTransport(stanza: Element): Promise<void> {
    this.stats.sent++;
    if (stanza.name === "message") this.#lastMessageAt = Date.now();
    if (this.listenerCount("sent") > 0) this.emit("sent", stanza);
    return this.transport.send(stanza);
  }

  /**
   * Handle one inbound stanza: build the context, run the pipeline in the chat's order,
   * contain any error. Resolves when the pipeline finished; never rejects. `caughtUp` marks a
   * stanza a plugin took from an archive (`PluginHost.dispatch`, `ctx.caughtUp`).
   */
  handle(stanza: Element, opts: DispatchOptions = {}): Promise<void> {
    // While stopping, what the transport still delivers is handled: it may already be acknowledged
    // to the server. Only once the transport has stopped is a stanza dropped.
    if (this.#state === "stopped" || this.#state === "idle") return this.#drop("stopped", stanza);
    this.stats.received++;
    if (stanza.name !== "message" && stanza.name !== "presence" && stanza.name !== "iq") {
      this.log.debug("non-stanza element dropped", { element: stanza.name });
      return this.#drop("not-a-stanza", stanza);
    }
    // Replies to our own requests are consumed here, before the per-chat queues: a handler
    // awaiting one must not wait behind itself.
    if (stanza.name === "iq" && this.#requests.settle(stanza)) return Promise.resolve();
    if (stanza.name === "iq" && !this.#answers.wellFormed(stanza)) return this.#drop("malformed-iq", stanza);
    let ctx: C;
    try {
      ctx = new this.#Ctx(stanza, this.api, this.log, opts.caughtUp ? this.#caughtUpInit : this.#liveInit);
    } catch (error) {
      this.log.warn("malformed stanza dropped", { error, stanza: stanza.toString().slice(0, 500) });
      return this.#drop("malformed", stanza);
    }
    if (this.#echoes.isOwnEcho(ctx, this.transport.jid)) return this.#drop("own-echo", stanza);
    if (!this.#backlog.admit()) {
      // An iq get/set still gets its one answer (RFC 6120 §8.2.3): resource-constraint, type wait (§8.3.3.18).
      if (ctx.kind === "iq" && (stanza.attrs.type === "get" || stanza.attrs.type === "set")) {
        this.send(iqError(stanza, new StanzaError("resource-constraint"))).catch((error: unknown) => this.log.debug("iq refusal not sent", { error }));
      }
      return this.#drop("backlog-full", stanza);
    }
    // No named closures on this path: tsx's keepNames would wrap each one in defineProperty.
    if (!this.#sequencer) {
      const p = this.#run(ctx);
      this.#track(p);
      return p;
    }
    this.#busy++; // untracked by the sequencer's own settle handler: no promise of ours per stanza
    return this.#sequencer.run(this.#sequenceKey(ctx), () => this.#run(ctx), this.#untrack);
  }

  /** Count `p` as work in progress (for `idle()` and the stop drain). */
  #track(p: Promise<void>): void {
    this.#busy++;
    p.then(this.#untrack, this.#untrack);
  }

  /** Resolves once no stanza is being handled. */
  idle(): Promise<void> {
    if (this.#busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stop: pause the transport's inbound side (later stanzas stay with the server, see
   * `Transport.pauseInbound`), let running handlers and whatever the transport still delivers
   * finish (bounded), stop plugins, then stop the transport (which flushes its outbox and
   * closes). Stanzas delivered until the transport has stopped are handled, not dropped.
   * Idempotent.
   */
  stop(exitCode = 0): Promise<void> {
    this.#stopPromise ??= this.#stop(exitCode);
    return this.#stopPromise;
  }

  async #stop(exitCode: number): Promise<void> {
    this.#state = "stopping";
    this.#hosts.markStopping();
    await stopSequence(this, { requests: this.#requests, hosts: this.#hosts, drainTimeoutMs: this.#drainTimeoutMs, plugins: () => this.#plugins() });
    this.#refusals.flush();
    this.#backlog.close();
    this.#watchdog?.close();
    this.#state = "stopped";
    this.emit("stopped", { exitCode });
  }

  #run(ctx: C): Promise<void> {
    // Counted in the backlog until the pipeline really finished, also past the handler timeout.
    const work = this.#runPipeline(ctx);
    return this.#watchdog ? this.#watchdog.watch(work, this.#timedOut, ctx) : work;
  }

  readonly #timedOut = (ctx: C): void => {
    this.log.warn("handler still running; handling the chat's next stanzas meanwhile", { afterMs: this.#handlerTimeoutMs, chat: ctx.chat });
  };

  /** Runs the pipeline of `ctx`'s kind; never rejects. */
  async #runPipeline(ctx: C): Promise<void> {
    const t0 = performance.now();
    let failure: unknown;
    try {
      const iqKey = this.#answers.open(ctx);
      try {
        await this.#pipelines![ctx.kind](ctx, done);
      } catch (error) {
        failure = error ?? new Error("handler rejected with no reason");
        // A StanzaError thrown while answering an iq is the answer, not a failure.
        if (!(iqKey !== undefined && error instanceof StanzaError)) this.#report(error, ctx);
      }
      if (iqKey !== undefined) await this.#answers.finish(ctx, iqKey, failure);
      this.stats.handled++;
      if (this.listenerCount("handled") > 0) this.emit("handled", { ctx, durationMs: performance.now() - t0, error: failure });
    } catch (error) {
      this.log.error("a \"handled\" listener failed", { error });
    } finally {
      this.#backlog.done();
    }
  }

  #report(error: unknown, ctx: C): void {
    this.stats.errors++;
    logHandlerFailure(error, ctx.stanza, this.#refusals, this.log);
    this.emit("handler-error", { error, stanza: ctx.stanza });
    callErrorHook(this.bot.errorHandler, error, ctx, this.log);
  }

  #onOnline(jid: string, rosterVersioning: boolean | undefined): Promise<void> {
    this.log.info("online", { jid: bare(jid) });
    return this.#hosts.sessionOnline(this.#builtins, this.bot.plugins, rosterVersioning === undefined ? { jid } : { jid, rosterVersioning });
  }

  #drop(reason: string, stanza: Element): Promise<void> {
    this.stats.dropped++;
    this.emit("dropped", { reason, stanza });
    return Promise.resolve();
  }
}

const done = (): Promise<void> => Promise.resolve();
/**
 * The default sequence key: one queue per chat, and a separate one for a sender's IQs, so that a
 * disco query or a ping is not answered only after the sender's slow command finished.
 */
const chatKey = (ctx: Context): string => (ctx.kind === "iq" ? `\u0000iq ${ctx.chat}` : ctx.chat || ctx.from);
