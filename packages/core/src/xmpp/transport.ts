/**
 * The XMPP transport: one bot account over xmpp.js 0.14 with our own SASL, reconnect loop
 * (full-jitter backoff + watchdog), dead-link detection (XEP-0199 ping, XEP-0198 ack timeout),
 * XEP-0198 resumption, an outbox that survives disconnects, and a bounded graceful stop.
 * Outgoing stanzas over the server's size limit are dropped before they are written (stanza-limit.ts);
 * a full outbox slows the intake (intake.ts); redeliveries are recognised in redelivery.ts.
 */
import xml, { type Element } from "@xmpp/xml";
import { TypedEmitter } from "../emitter.ts";
import { ExitCode } from "../exit-codes.ts";
import { registerSecret, type Logger } from "../logger.ts";
import type { TransportEvents } from "../transport.ts";
import { PermanentAuthError } from "../auth/types.ts";
import { ConfigError } from "../config/errors.ts";
import type { BotConfig, Mechanism } from "../config/config.ts";
import { assembleClient, isInternal, markInternal, type XmppClientParts } from "./client.ts";
import { backoffDelay } from "./backoff.ts";
import { classifyError, TransportStoppedError, XmppAuthError, XmppConnectError, type ConnectStep } from "./errors.ts";
import { startKeepalive, type Keepalive } from "./keepalive.ts";
import { Outbox } from "./outbox.ts";
import { IntakeGate, setSocketReading } from "./intake.ts";
import { RedeliveryFilter } from "./redelivery.ts";
import { advertisedMaxBytes, effectiveLimit, stanzaBytes, StanzaTooLargeError } from "./stanza-limit.ts";
import { takeRefused, takeUnresumable } from "./sm-recovery.ts";
import { INSECURE_LOOPBACK_ONLY, isLoopbackHost } from "../config/loopback.ts";
import type { SaslChoice } from "./sasl.ts";
import type { SaslCredentials } from "./sasl-mechanisms.ts";
import { destroySocket, parse } from "./sockets.ts";
import { resolveServices } from "./srv.ts";
import { oneLine, until, withTimeout } from "./async-util.ts";
import type { XmppTransport, XmppTransportOptions, XmppTransportStats } from "./transport-types.ts";

export type { BeforeSaslContext, BeforeSaslResult, XmppTransport, XmppTransportOptions, XmppTransportStats } from "./transport-types.ts";

type State = "new" | "connecting" | "online" | "waiting" | "stopping" | "stopped" | "fatal";
type Outcome = "online" | "resumed";

const NS_SM = "urn:xmpp:sm:3";
const NS_STREAMS = "http://etherx.jabber.org/streams";
/** RFC 6121 §2.6.1 / XEP-0237: the stream feature saying the server versions the roster. */
const NS_ROSTERVER = "urn:xmpp:features:rosterver";
/** An outgoing stanza's measured size (or an upper bound of it), so a write does not measure it again. */
const SIZE = Symbol("botrun.size");
/** At most this long between `online` and initial presence while the roster get is under way. */
const ROSTER_BEFORE_PRESENCE_MS = 5_000;
/** Consecutive see-other-host redirects followed at once before they count as failed attempts. */
const MAX_REDIRECTS = 5;
const PERMANENT_SASL = new Set([
  "account-disabled",
  "credentials-expired",
  "encryption-required",
  "invalid-authzid",
  "invalid-mechanism",
  "malformed-request",
  "mechanism-too-weak",
  "not-authorized",
]);

/** Create the XMPP transport. Nothing happens until `start()`. */
export function createXmppTransport(options: XmppTransportOptions): XmppTransport {
  return new XmppTransportImpl(options);
}

class XmppTransportImpl extends TypedEmitter<TransportEvents> implements XmppTransport {
  readonly kind = "xmpp";
  initialPresence: (() => Element) | undefined = undefined;
  beforeInitialPresence: (() => Promise<void>) | undefined = undefined;
  readonly #o: XmppTransportOptions;
  readonly #cfg: BotConfig;
  readonly #parts: XmppClientParts;
  readonly #outbox: Outbox;
  #log: Logger;
  #state: State = "new";
  #step: ConnectStep = "DNS";
  #connections = 0;
  #failures = 0;
  #attempting = false;
  /** Settles when the connect attempt under way has ended (stop() waits for it). */
  #attemptDone: Promise<void> = Promise.resolve();
  /** Aborts the DNS queries of the attempt under way. */
  #abort: AbortController | undefined;
  #pending: { resolve(o: Outcome): void; reject(e: unknown): void } | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #stableTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #attemptStarted = 0;
  #keepalive: Keepalive | undefined;
  #redirect: string | undefined;
  /** A see-other-host arrived and the reconnect it calls for has not been scheduled yet. */
  #redirectPending = false;
  /** See-other-host redirects since the last session: past MAX_REDIRECTS they count as failures (no redirect loop). */
  #redirectHops = 0;
  #forceRefresh = false;
  #retriedAuth = false;
  #mechanism: Mechanism | undefined;
  /** The mechanism of the last successful authentication (what `auto` resolved to). */
  #saslMechanism: Mechanism | undefined;
  #start: { resolve(): void; reject(e: Error): void; attempts: number } | undefined;
  #stopPromise: Promise<void> | undefined;
  /** `pauseInbound()` took effect: inbound stanzas are neither delivered nor acknowledged. */
  #inboundPaused = false;
  /**
   * XEP-0198 enabling is settled on this stream: `<enabled/>` or `<failed/>` answered our
   * `<enable/>`, or the server offers no XEP-0198. Until then the outbox holds stanzas: one written
   * meanwhile is neither covered by a resumable session nor known to be delivered.
   */
  #smSettled = true;
  /** The stream's XEP-0198 negotiation starts with `<resume/>` (its `<failed/>` is not the answer to `<enable/>`). */
  #smResuming = false;
  #smEnableTimer: NodeJS.Timeout | undefined;
  /** Our XEP-0198 ack timeout: armed by an outgoing `<r/>`, cleared by any inbound element. */
  #ackTimer: NodeJS.Timeout | undefined;
  /** xmpp.js's `disconnect()` under way (a stream error, `stop()`): it must end before a new socket is attached. */
  #closing: Promise<unknown> | undefined;
  /** `nonza` listeners of a fresh client; others are procedures of a dead stream, removed on teardown. */
  #baseNonzaListeners = new Set<unknown>();
  /** `error` listeners of a fresh client (ours, the debug trace's); others are waits of xmpp.js. */
  #baseErrorListeners = new Set<unknown>();
  readonly #redeliveries = new RedeliveryFilter();
  readonly #intake: IntakeGate;
  /** The current stream's XEP-0478 `<max-bytes/>`, if advertised. */
  #advertisedMax: number | undefined;
  /** The current stream's latest features carry `<ver xmlns="urn:xmpp:features:rosterver"/>`. */
  #rosterVersioning = false;
  #droppedTooLarge = 0;
  #droppedRefused = 0;
  /** Inbound stanzas dropped before any handler: nested deeper than MAX_STANZA_DEPTH (client.ts). */
  #droppedTooDeep = 0;
  /** The bound JID of the current session, as a string. */
  #jid = "";

  constructor(o: XmppTransportOptions) {
    super();
    this.#o = o;
    this.#cfg = o.config;
    this.#log = o.logger.child({ component: "xmpp" });
    registerSecret(this.#cfg.password);
    registerSecret(this.#cfg.accessToken);
    const t = this.#cfg.tuning;
    this.#parts = assembleClient({
      domain: this.#cfg.domain,
      resource: this.#cfg.resource,
      tls: { servername: this.#cfg.domain, ca: this.#cfg.ca, onSocket: o.onSocket },
      // xmpp.js's own waits (stream header, stream close) end within half the attempt's budget.
      timeoutMs: Math.min(t.connectTimeoutMs / 2, 10_000),
      smAckTimeoutMs: t.smAckTimeoutMs,
      debug: o.debug ?? this.#cfg.debug,
      onTlsStep: () => (this.#step = "TLS"),
      onDropped: (d) => {
        this.#droppedTooDeep++;
        this.#log.warn("dropped an inbound stanza", { ...d });
      },
      sasl: {
        allowInsecure: this.#cfg.allowInsecure,
        timeoutMs: t.saslTimeoutMs,
        choose: (offered) => this.#chooseSasl(offered),
        onStart: (m) => {
          this.#step = "SASL";
          this.#log.debug("authenticating", { mechanism: m });
        },
        onSuccess: (m) => {
          this.#saslMechanism = m;
          this.#step = "resource binding";
        },
      },
    });
    this.#outbox = new Outbox({
      limit: t.outboxLimit,
      overflow: t.outboxOverflow,
      logger: this.#log,
      write: (el) => this.#write(el),
      onDepth: (d) => this.#intake.update(d),
    });
    this.#intake = new IntakeGate({
      high: Math.max(1, Math.floor(t.outboxLimit / 2)),
      low: Math.floor(t.outboxLimit / 4),
      checkMs: Math.max(50, Math.min(5000, t.pingIntervalMs / 3, t.smAckTimeoutMs / 3)),
      depth: () => this.#outbox.depth,
      setReading: (reading) => {
        if (this.#state === "online" || this.#state === "stopping") setSocketReading(this.#parts.entity.socket, reading);
      },
      canPause: () => this.#state === "online",
      onProgress: () => this.#keepalive?.touch(),
      logger: this.#log,
    });
    // xmpp.js's own ack timeout calls entity.disconnect(), which closes "the" socket when it ends:
    // by then possibly the next connection's. Ours drops the dead socket instead (#dead).
    this.#parts.sm.timeout = 0;
    this.#trackDisconnects();
    this.#wire();
    this.#baseNonzaListeners = new Set(this.#parts.entity.listeners("nonza"));
    this.#baseErrorListeners = new Set(this.#parts.entity.listeners("error"));
  }

  get jid(): string | undefined {
    return this.#state === "online" ? this.#jid : undefined;
  }
  get outboxDepth(): number {
    return this.#outbox.depth;
  }
  get unackedCount(): number {
    return this.#parts.sm.outbound_q.length;
  }
  get streamManagement(): boolean {
    return this.#parts.sm.enabled;
  }
  get maxStanzaBytes(): number {
    return effectiveLimit(this.#cfg.tuning.maxStanzaBytes, this.#advertisedMax);
  }
  get saslMechanism(): Mechanism | undefined {
    return this.#saslMechanism;
  }
  get stats(): XmppTransportStats {
    return {
      droppedTooLarge: this.#droppedTooLarge,
      droppedRefused: this.#droppedRefused,
      droppedTooDeep: this.#droppedTooDeep,
      outboxRejected: this.#outbox.rejected,
      intakePauses: this.#intake.pauses,
      intakePaused: this.#intake.paused,
    };
  }

  start(): Promise<void> {
    if (this.#state !== "new") return Promise.reject(new Error("start() may be called once"));
    return new Promise<void>((resolve, reject) => {
      this.#start = { resolve, reject, attempts: 0 };
      this.#watchdog = setInterval(() => this.#checkWatchdog(), 1000);
      this.#watchdog.unref();
      const tp = this.#o.tokenProvider;
      tp?.on?.("refreshed", (p) => {
        if (this.#state !== "stopped") this.emit("token-refreshed", { expiresAt: p.expiresAt });
      });
      void this.#runAttempt();
    });
  }

  send(stanza: Element): Promise<void> {
    if (this.#state === "stopping" || this.#state === "stopped" || this.#state === "fatal") return Promise.reject(new TransportStoppedError());
    const err = this.#tooLarge(stanza, "before sending");
    if (err) return Promise.reject(err);
    return this.#outbox.push(stanza);
  }

  /** An error (after logging and counting the drop) if `el` is over the limit in force, else undefined. */
  #tooLarge(el: Element, when: string): StanzaTooLargeError | undefined {
    const limit = this.maxStanzaBytes;
    const sized = el as Element & { [SIZE]?: number };
    // Measured when it was queued and still under the limit (the echo path measures once).
    if (sized[SIZE] !== undefined && sized[SIZE] <= limit) return undefined;
    const bytes = stanzaBytes(el, limit);
    sized[SIZE] = bytes;
    if (bytes <= limit) return undefined;
    this.#droppedTooLarge++;
    const to = el.attrs.to as string | undefined;
    this.#log.warn("stanza too large for the server: dropped, not sent", { bytes, limit, to, stanza: el.name, id: el.attrs.id, when });
    return new StanzaTooLargeError(bytes, limit, to);
  }

  /**
   * Stop delivering inbound stanzas and stop acknowledging them (XEP-0198 `h` frozen, also in the
   * final `<a/>` on close): the server keeps what arrives from now on and stores it offline when
   * the stream closes, so the next session gets it (with `<delay/>`). Without XEP-0198 on the
   * current stream nothing can be kept from being lost, so stanzas keep being delivered until
   * `stop()` closes the stream (at most once: one arriving while the socket closes is lost).
   */
  pauseInbound(): void {
    if (this.#inboundPaused) return;
    const { sm } = this.#parts;
    if (!sm.enabled && !sm.enableSent) {
      if (this.#state === "online") this.#log.debug("no XEP-0198 on this stream: inbound stanzas still delivered until stop");
      return;
    }
    this.#inboundPaused = true;
    this.#parts.freezeInbound();
    this.#log.debug("inbound paused; later stanzas stay with the server", { acknowledged: sm.inbound });
  }

  /** The runtime's backlog is over (true) or back under (false) its bound: stop or restart reading the socket (intake.ts). */
  setInboundPressure(paused: boolean): void {
    this.#intake.setPressure(paused);
  }

  stop(): Promise<void> {
    this.#stopPromise ??= this.#doStop();
    return this.#stopPromise;
  }

  // ---- wiring ---------------------------------------------------------------------------

  #wire(): void {
    const { entity, sm } = this.#parts;
    entity.on("error", (err: Error) => {
      if (this.#pending) return this.#pending.reject(err);
      if (this.#state === "stopping" || this.#state === "stopped") return;
      this.#log.warn("connection error", { error: oneLine(err) });
      if (err.name === "StreamError" && (err as { condition?: string }).condition === "policy-violation") this.#refuseHead(err);
      // The stream is over (xmpp.js now waits for the server's close): go offline at once.
      if (err.name === "StreamError") this.#dead(oneLine(err));
      // Unparsable input: xmpp.js answers with a stream error and closes our side; once both are
      // written ("closing"), drop the socket rather than wait for a hostile server's close.
      else if (err.name === "XMLError" && this.#state === "online") {
        const reason = `unparsable input from the server (${(err as { condition?: string }).condition ?? "not-well-formed"} stream error sent)`;
        const onClosing = (): void => {
          entity.removeListener("closing", onClosing);
          this.#dead(reason);
        };
        entity.on("closing", onClosing);
      }
    });
    entity.on("disconnect", (info: { reason?: unknown } | undefined) => {
      this.#rescueUnresumable();
      this.#onDisconnect(info);
    });
    entity.on("nonza", (el: Element) => this.#onNonza(el));
    entity.on("online", () => this.#pending?.resolve("online"));
    sm.on("resumed", () => this.#pending?.resolve("resumed"));
    entity.on("element", () => {
      this.#keepalive?.touch();
      if (this.#ackTimer) {
        clearTimeout(this.#ackTimer);
        this.#ackTimer = undefined;
      }
    });
    entity.on("send", (el: Element) => {
      if (this.#ackTimer || !el.is("r", NS_SM) || this.#state !== "online") return;
      const ms = this.#cfg.tuning.smAckTimeoutMs;
      const expire = () => {
        // Not reading (intake paused) hides the ack: wait on; the pause ends on its own (intake.ts).
        if (this.#intake.paused) return void (this.#ackTimer = setTimeout(expire, ms).unref());
        this.#ackTimer = undefined;
        this.#dead(`no XEP-0198 ack within ${ms} ms`);
      };
      this.#ackTimer = setTimeout(expire, ms);
      this.#ackTimer.unref();
    });
    sm.on("fail", (stanza) => {
      if (this.#state === "stopping" || this.#state === "stopped" || isInternal(stanza)) return;
      this.#outbox.requeue(stanza);
    });
    // see-other-host: remember the new host for this and later connects; the stream error closes the stream.
    entity._onSeeOtherHost = (error) => {
      const host = error.element.getChildText("see-other-host") ?? "";
      const current = parse(this.#redirect ?? entity.options.service ?? "xmpp://x");
      const proto = current?.protocol ?? "xmpp:";
      this.#redirect = /:\d+$|^\[.*\]:\d+$/.test(host) ? `${proto}//${host}` : `${proto}//${host.includes(":") ? `[${host}]` : host}`;
      this.#redirectPending = ++this.#redirectHops <= MAX_REDIRECTS;
      this.#log.info("server redirects (see-other-host)", { service: this.#redirect });
    };
    this.#parts.use((ctx, next) => {
      const el = ctx.stanza;
      if (el.name === "message" || el.name === "presence" || el.name === "iq") {
        // Paused: not counted for XEP-0198 either (same tick, see ownInboundCounter), so the server keeps it.
        if (this.#inboundPaused) return next();
        if (this.#state === "online") this.#intake.inbound();
        const redelivery = this.#redeliveries.check(el, this.#bareJid());
        if (redelivery) {
          this.#log.info("dropped a redelivered message (handled before)", { from: el.attrs.from, id: el.attrs.id, by: redelivery });
          return next();
        }
        try {
          this.emit("stanza", el);
        } catch (err) {
          this.#log.error("stanza listener threw", { error: oneLine(err) });
        }
      }
      return next();
    });
  }

  /** Remember each `entity.disconnect()` under way (xmpp.js calls it on stream errors and in `stop()`). */
  #trackDisconnects(): void {
    const { entity } = this.#parts;
    const disconnect = entity.disconnect.bind(entity);
    entity.disconnect = () => {
      const p = disconnect();
      this.#closing = p;
      const done = () => {
        if (this.#closing === p) this.#closing = undefined;
      };
      p.then(done, done);
      return p;
    };
  }

  /** Track XEP-0198 negotiation: hold the outbox until `<enable/>` is answered. */
  #onNonza(el: Element): void {
    const { sm } = this.#parts;
    if (el.is("features", NS_STREAMS)) {
      // XEP-0478: the limit may differ before and after authentication; the latest features hold.
      this.#advertisedMax = advertisedMaxBytes(el);
      // Servers advertise it after authentication (Prosody: only to an authenticated session); the latest features hold.
      this.#rosterVersioning = Boolean(el.getChild("ver", NS_ROSTERVER));
      this.#smSettled = !el.getChild("sm", NS_SM);
      this.#smResuming = !this.#smSettled && Boolean(sm.id);
      return;
    }
    if (el.attrs.xmlns !== NS_SM) return;
    if (el.name === "resumed") {
      this.#smSettled = true;
    } else if (el.name === "failed" && this.#smResuming) {
      this.#smResuming = false; // resumption refused: binding and <enable/> follow
    } else if (el.name === "enabled" || el.name === "failed") {
      if (el.name === "failed") {
        // Written on a stream without XEP-0198: delivered at most once, never acknowledged.
        sm.outbound_q = [];
        sm.outbound = 0;
        this.#log.warn("server refused XEP-0198 (<failed/> to <enable/>); no delivery guarantee on this stream");
      }
      this.#smSettled = true;
      clearTimeout(this.#smEnableTimer);
      if (this.#state === "online") this.#outbox.resume();
    }
  }

  /** On disconnect: unacknowledged stanzas of a stream that cannot be resumed go back into the outbox (sm-recovery.ts). */
  #rescueUnresumable(): void {
    clearTimeout(this.#smEnableTimer);
    const els = takeUnresumable(this.#parts.sm);
    if (!els || this.#state === "stopping" || this.#state === "stopped") return;
    for (const el of els) this.#outbox.requeue(el);
    if (els.length) this.#log.info("unacknowledged stanzas of an unresumable stream will be sent again", { count: els.length });
  }

  /** Our bare JID on the current session (for XEP-0359 `<stanza-id by>`). */
  #bareJid(): string {
    const slash = this.#jid.indexOf("/");
    return slash === -1 ? this.#jid : this.#jid.slice(0, slash);
  }

  /** A `policy-violation` stream error: the stanza the server refused is dropped, never sent again (sm-recovery.ts). */
  #refuseHead(err: Error): void {
    const refused = takeRefused(this.#parts.sm, err as { application?: Element });
    if (!refused) return;
    const { el, bytes } = refused;
    this.#droppedRefused++;
    this.#log.warn("the server refused a stanza (policy-violation): dropped, never sent again", { bytes, limit: this.maxStanzaBytes, to: el.attrs.to, stanza: el.name, id: el.attrs.id });
  }

  // ---- SASL -------------------------------------------------------------------------------

  async #chooseSasl(offered: string[]): Promise<SaslChoice> {
    const cfg = this.#cfg;
    // No mechanism at all is the server's state (authentication not set up), not our configuration:
    // retried, and exit 4 at start. One that lacks ours is a config error (XMPP_MECHANISM), in sasl.ts.
    if (offered.length === 0) throw new XmppConnectError("SASL", "the server offers no SASL mechanism (its authentication is not set up); retrying later");
    let mechanism = cfg.mechanism;
    let credentials: SaslCredentials = { username: cfg.username, password: cfg.password };
    if (this.#o.onBeforeSasl) {
      const r = await this.#o.onBeforeSasl({
        offered,
        mechanism,
        connection: this.#connections,
        domain: cfg.domain,
        username: cfg.username,
        secure: this.#parts.entity.isSecure(),
      });
      if (r?.mechanism) mechanism = r.mechanism;
      if (r?.credentials) credentials = { ...credentials, ...r.credentials };
    }
    if (mechanism === "X-MESSENGER-OAUTH2" && !credentials.accessToken && offered.includes(mechanism)) {
      credentials.accessToken = await this.#accessToken();
    }
    registerSecret(credentials.accessToken, { rotating: true }); // access tokens rotate: a bounded LRU, never pinned
    registerSecret(credentials.password);
    this.#mechanism = mechanism;
    return { mechanism, credentials };
  }

  async #accessToken(): Promise<string> {
    const tp = this.#o.tokenProvider;
    if (tp) {
      const force = this.#forceRefresh;
      this.#forceRefresh = false;
      return tp.getAccessToken(force ? { forceRefresh: true } : undefined);
    }
    if (this.#cfg.accessToken) return this.#cfg.accessToken;
    throw new XmppAuthError("no access token: configure XMPP_ACCESS_TOKEN or an OAuth token source", undefined, ExitCode.CONFIG);
  }

  // ---- connecting -------------------------------------------------------------------------

  async #candidates(): Promise<string[]> {
    if (this.#redirect) return [this.#redirect];
    if (this.#cfg.service) return [this.#cfg.service];
    this.#step = "DNS";
    this.#abort = new AbortController();
    try {
      return await resolveServices(this.#cfg.domain, { dnsServers: this.#cfg.dnsServers, random: this.#o.random, signal: this.#abort.signal });
    } finally {
      this.#abort = undefined;
    }
  }

  async #connectOnce(): Promise<Outcome> {
    const candidates = await this.#candidates();
    let last: XmppConnectError | undefined;
    for (const [i, service] of candidates.entries()) {
      if (this.#isDone()) throw new TransportStoppedError();
      try {
        return await this.#tryService(service);
      } catch (err) {
        // Stopping, or not a connection problem: no other candidate will do better.
        if (err instanceof TransportStoppedError || err instanceof PermanentAuthError || err instanceof ConfigError) throw err;
        last = classifyError(err, this.#step);
        await this.#teardown();
        if (service === this.#redirect && (last.step === "TCP connect" || last.step === "DNS")) this.#redirect = undefined;
        if ((last.step === "TCP connect" || last.step === "DNS") && i < candidates.length - 1) {
          this.#log.debug("candidate failed, trying the next", { service, error: last.message });
          continue;
        }
        throw last;
      }
    }
    throw last ?? new XmppConnectError("DNS", "no service to connect to");
  }

  async #tryService(service: string): Promise<Outcome> {
    if (this.#isDone()) throw new TransportStoppedError();
    const { entity } = this.#parts;
    // Whatever is left of the previous stream (socket, parser, a close under way, procedures) goes first.
    if (entity.socket || entity.parser || this.#closing) await this.#teardown();
    if (this.#isDone()) throw new TransportStoppedError();
    const host = parse(service)?.host ?? service;
    // SRV targets and redirects are only known here (config.ts checks XMPP_SERVICE).
    if (this.#cfg.allowInsecure && !isLoopbackHost(host)) throw new ConfigError("XMPP_ALLOW_INSECURE", INSECURE_LOOPBACK_ONLY, host);
    const ms = this.#cfg.tuning.connectTimeoutMs;
    this.#step = "TCP connect";
    this.#log = this.#o.logger.child({ component: "xmpp", conn: this.#connections, service });
    entity.options.service = service;
    const outcome = new Promise<Outcome>((resolve, reject) => (this.#pending = { resolve, reject }));
    outcome.catch(() => {});
    const timer = setTimeout(
      () => this.#pending?.reject(new XmppConnectError(this.#step, `no progress within ${ms} ms (XMPP_CONNECT_TIMEOUT)`)),
      ms,
    );
    try {
      await Promise.race([Promise.resolve().then(() => entity.connect(service)), outcome]);
      if (this.#step === "TCP connect") this.#step = "stream features";
      await Promise.race([entity.open({ domain: this.#cfg.domain }), outcome]);
      return await outcome;
    } catch (err) {
      // xmpp.js's own waits (stream header, features) time out with an empty message: say what was awaited.
      if ((err as Error)?.name === "TimeoutError" && !(err as Error).message) {
        throw new XmppConnectError(this.#step, `no answer from the server within ${entity.timeout} ms`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      this.#pending = undefined;
    }
  }

  async #runAttempt(): Promise<void> {
    if (this.#attempting || this.#isDone()) return;
    this.#attempting = true;
    this.#attemptStarted = Date.now();
    this.#state = "connecting";
    this.#connections++;
    let ended!: () => void;
    this.#attemptDone = new Promise<void>((r) => (ended = r));
    try {
      const outcome = await this.#connectOnce();
      this.#attempting = false;
      if (this.#isDone()) return;
      this.#sessionUp(outcome);
    } catch (err) {
      this.#attempting = false;
      await this.#teardown();
      if (this.#isDone()) return;
      this.#attemptFailed(err);
    } finally {
      ended();
    }
  }

  #sessionUp(outcome: Outcome): void {
    const { entity } = this.#parts;
    const jid = entity.jid?.toString() ?? "";
    this.#jid = jid; // cached: JID serialisation (with escaping) is costly per stanza
    this.#state = "online";
    this.#retriedAuth = false;
    this.#forceRefresh = false;
    this.#redirectHops = 0;
    this.#log.info(outcome === "resumed" ? "session resumed" : "online", { jid });
    clearTimeout(this.#stableTimer);
    this.#stableTimer = setTimeout(() => (this.#failures = 0), this.#cfg.tuning.reconnectStableAfterMs);
    this.#stableTimer.unref();
    this.#keepalive?.stop();
    this.#keepalive = startKeepalive({
      intervalMs: this.#cfg.tuning.pingIntervalMs,
      timeoutMs: this.#cfg.tuning.pingTimeoutMs,
      ping: (t) =>
        this.#parts.iqRequest(
          markInternal(xml("iq", { type: "get", to: this.#cfg.domain }, xml("ping", { xmlns: "urn:xmpp:ping" }))),
          t,
        ),
      onDead: (reason) => this.#dead(reason),
    });
    if (outcome === "online") {
      // Initial presence goes out once the runtime's roster get is done (RFC 6121 §2.2), at most
      // ROSTER_BEFORE_PRESENCE_MS later, and only if this is still the same online session.
      const before = this.beforeInitialPresence;
      const connection = this.#connections;
      const announce = () => {
        if (this.#connections !== connection || this.#state !== "online") return;
        entity.send(markInternal(this.initialPresence?.() ?? xml("presence"))).catch(() => {});
      };
      if (this.#smSettled) this.#outbox.resume();
      else {
        // Held until <enabled/> or <failed/> (#onNonza); a server that never answers is dead.
        clearTimeout(this.#smEnableTimer);
        const ms = Math.min(this.#cfg.tuning.smAckTimeoutMs, this.#cfg.tuning.connectTimeoutMs);
        this.#smEnableTimer = setTimeout(() => !this.#smSettled && this.#dead(`no answer to <enable/> within ${ms} ms`), ms);
        this.#smEnableTimer.unref();
      }
      this.emit("online", { jid, resumed: false, rosterVersioning: this.#rosterVersioning });
      // After `online`: the runtime starts the roster get in its online handler.
      if (!before) announce();
      else {
        let timer: NodeJS.Timeout | undefined;
        const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, ROSTER_BEFORE_PRESENCE_MS)).unref());
        // start() resolves once the bot is available (its presence sent), as without the hook.
        const started = this.#start;
        this.#start = undefined;
        void Promise.race([before().catch(() => {}), cap]).then(() => {
          clearTimeout(timer);
          announce();
          started?.resolve();
        });
      }
    } else {
      this.#outbox.resume();
      this.emit("resumed", { jid });
    }
    if (this.#start) {
      const s = this.#start;
      this.#start = undefined;
      s.resolve();
    }
  }

  #attemptFailed(err: unknown): void {
    if (err instanceof PermanentAuthError) {
      return this.#fatal(new XmppAuthError(`token provider: ${err.message} (${err.code}); run \`botrun auth\` to renew consent`, err.code), ExitCode.REAUTH);
    }
    if (err instanceof ConfigError) {
      // A token provider's configuration error (no refresh token yet, unreadable token store): retrying cannot help.
      return this.#fatal(err, ExitCode.CONFIG);
    }
    const e = classifyError(err, this.#step);
    if (e instanceof XmppAuthError) {
      const cond = e.condition ?? "";
      const token = this.#mechanism === "X-MESSENGER-OAUTH2";
      if (cond === "not-authorized" && token && this.#o.tokenProvider && !this.#retriedAuth) {
        this.#retriedAuth = true;
        this.#forceRefresh = true;
        this.#log.warn("access token rejected; refreshing it and retrying once");
        return this.#schedule(true);
      }
      if (e.exitCode === ExitCode.CONFIG) return this.#fatal(e, ExitCode.CONFIG);
      if (PERMANENT_SASL.has(cond)) {
        const hint = token
          ? "the access token was rejected; run `botrun auth` to renew consent"
          : "check XMPP_USERNAME and XMPP_PASSWORD";
        return this.#fatal(new XmppAuthError(`${e.message.replace(/^SASL: /, "")}; ${hint}`, cond), ExitCode.REAUTH);
      }
    } else if (e.exitCode === ExitCode.CONFIG) {
      return this.#fatal(e, ExitCode.CONFIG);
    }
    // Redirected: not a failure; go to the new host at once (this attempt only).
    if (this.#redirectPending) return this.#schedule(true);
    if (this.#start) {
      this.#start.attempts++;
      if (this.#start.attempts >= this.#cfg.tuning.startAttempts) return this.#fatal(e, ExitCode.UNAVAILABLE);
    }
    this.#log.warn("connect failed", { step: e.step, error: e.message });
    this.#schedule();
  }

  /** Schedule the next connect attempt: with backoff, or at once right after a see-other-host. */
  #schedule(immediate = false): void {
    if (this.#isDone() || this.#reconnectTimer || this.#attempting) return;
    if (this.#redirectPending) {
      this.#redirectPending = false;
      immediate = true;
    }
    this.#failures++;
    const t = this.#cfg.tuning;
    const delayMs = immediate ? 0 : backoffDelay(this.#failures, { baseMs: t.reconnectBaseDelayMs, maxMs: t.reconnectMaxDelayMs, random: this.#o.random });
    this.#state = "waiting";
    this.emit("reconnecting", { attempt: this.#failures, delayMs });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#runAttempt();
    }, delayMs);
  }

  #onDisconnect(info: { reason?: unknown } | undefined): void {
    const reason = info?.reason ? oneLine(info.reason) : "connection closed";
    if (this.#pending) {
      this.#pending.reject(new XmppConnectError(this.#step, `connection closed by the server during ${this.#step}`));
      return;
    }
    if (this.#state !== "online") return;
    this.#wentOffline(reason);
  }

  #wentOffline(reason: string): void {
    this.#state = "waiting";
    this.#intake.reset();
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    this.#keepalive?.stop();
    this.#keepalive = undefined;
    clearTimeout(this.#stableTimer);
    this.#outbox.pause();
    this.#log.warn("offline", { reason });
    this.emit("offline", { reason });
    this.#schedule();
  }

  /** The link is dead (ping or watchdog): drop the socket without waiting for a FIN. */
  #dead(reason: string): void {
    if (this.#state !== "online") return;
    this.#log.warn("connection dead", { reason });
    destroySocket(this.#parts.entity.socket);
    // The socket's close event normally reports the disconnect; make sure it happens regardless.
    if (this.#state === "online") setImmediate(() => this.#state === "online" && this.#wentOffline(reason));
  }

  #checkWatchdog(): void {
    if (this.#isDone() || this.#state === "new") return;
    const { entity } = this.#parts;
    if (this.#state === "online" && (entity.status !== "online" || !entity.socket)) {
      // E.g. xmpp.js closing the stream after a stream error: drop the socket now, the close reports it.
      this.#log.warn("watchdog: session lost without a disconnect event", { status: entity.status });
      return this.#dead("connection lost");
    }
    if (this.#state === "waiting" && !this.#reconnectTimer && !this.#attempting) {
      this.#log.warn("watchdog: no reconnect scheduled, scheduling one");
      return this.#schedule();
    }
    const t = this.#cfg.tuning;
    if (this.#attempting && Date.now() - this.#attemptStarted > t.connectTimeoutMs + t.saslTimeoutMs + 5000) {
      this.#log.warn("watchdog: connect attempt stuck, aborting it");
      this.#pending?.reject(new XmppConnectError(this.#step, "connect attempt stuck"));
      destroySocket(entity.socket);
    }
  }

  async #teardown(): Promise<void> {
    const { entity } = this.#parts;
    this.#keepalive?.stop();
    this.#keepalive = undefined;
    clearTimeout(this.#smEnableTimer);
    // Procedures (e.g. xmpp.js's <enable/>) of a dead stream would otherwise answer the next stream's nonzas.
    for (const l of entity.listeners("nonza")) if (!this.#baseNonzaListeners.has(l)) entity.removeListener("nonza", l);
    if (entity.socket) {
      const closed = new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          entity.removeListener("disconnect", done);
          resolve();
        };
        const t = setTimeout(done, 2000);
        entity.on("disconnect", done);
      });
      destroySocket(entity.socket);
      await closed;
    }
    if (this.#closing) {
      // xmpp.js's disconnect() may be waiting for the peer's </stream:stream>: the socket is gone, so
      // end that wait now; it then finds no socket and finishes without touching the next one.
      (entity.parser as { emit?: (e: string) => void } | null)?.emit?.("end");
      await withTimeout(this.#closing, entity.timeout + 1000);
    }
    entity._detachParser();
  }

  #write(el: Element): Promise<void> {
    if (this.#state !== "online" && this.#state !== "stopping") return Promise.reject(new Error("offline"));
    if (this.#parts.entity.status !== "online") return Promise.reject(new Error("offline"));
    // Queued under another stream's limit (or a requeued one that grew a <delay/>): dropped, not written.
    if (this.#tooLarge(el, "when writing")) return Promise.resolve();
    return this.#parts.entity.send(el);
  }

  #isDone(): boolean {
    return this.#state === "stopping" || this.#state === "stopped" || this.#state === "fatal";
  }

  #fatal(error: Error, exitCode: number): void {
    if (this.#isDone()) return;
    this.#state = "fatal";
    this.#clearTimers();
    this.#outbox.pause();
    this.#log.error(oneLine(error), { exitCode });
    void this.#teardown();
    if (this.#start) {
      const s = this.#start;
      this.#start = undefined;
      s.reject(Object.assign(error, { exitCode }));
    } else {
      this.emit("fatal", { error, exitCode });
    }
  }

  #clearTimers(): void {
    clearTimeout(this.#smEnableTimer);
    clearTimeout(this.#ackTimer);
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    clearTimeout(this.#stableTimer);
    clearInterval(this.#watchdog);
    this.#keepalive?.stop();
    this.#keepalive = undefined;
  }

  async #doStop(): Promise<void> {
    const was = this.#state;
    this.#state = "stopping";
    this.#outbox.close();
    this.#intake.reset();
    setSocketReading(this.#parts.entity.socket, true); // acks must get through
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const { entity, sm } = this.#parts;
    const budget = this.#cfg.tuning.stopTimeoutMs;
    const deadline = Date.now() + budget;
    const left = () => Math.max(0, deadline - Date.now());
    if (was === "online" && entity.status === "online") {
      // The outbox is held while <enable/> is unanswered: give the server a moment, not the whole budget.
      if (!this.#smSettled) await until(() => this.#smSettled, Math.min(left(), 2000));
      if (!this.#smSettled) this.#log.warn("stop: XEP-0198 <enable/> unanswered; outbox not flushed", { left: this.#outbox.depth });
      else if (!(await this.#outbox.drain(left()))) this.#log.warn("stop: outbox not flushed in time", { left: this.#outbox.depth });
      this.#outbox.pause(); // XMPP_STOP_TIMEOUT is up or everything is out: no further writes start
      await withTimeout(entity.send(xml("presence", { type: "unavailable" })), left());
      if (sm.enabled && sm.outbound_q.length > 0) {
        entity.send(xml("r", { xmlns: "urn:xmpp:sm:3" })).catch(() => {});
        await until(() => sm.outbound_q.length === 0, left());
        if (sm.outbound_q.length) this.#log.warn("stop: stanzas not acknowledged by the server", { count: sm.outbound_q.length });
      }
      this.#keepalive?.stop();
      // The closing handshake gets what is left, at least 0.5 s: past XMPP_STOP_TIMEOUT the socket is dropped.
      await withTimeout(entity.stop(), Math.max(left(), 500));
    }
    this.#pending?.reject(new TransportStoppedError());
    this.#abort?.abort();
    this.#clearTimers();
    // A connect attempt under way ends at its next step; wait for it so no socket outlives stop().
    await withTimeout(this.#attemptDone, left() + 2000);
    await this.#teardown();
    this.#intake.flush();
    const dropped = this.#outbox.clear();
    if (dropped) this.#log.warn("stop: stanzas never sent", { count: dropped });
    // xmpp.js waits of an interrupted connect (e.g. for the stream header, up to its timeout) end
    // on "error": end them now so their timers do not keep the process alive (not via emit: no debug line).
    const stopped = new TransportStoppedError();
    for (const l of entity.listeners("error")) if (!this.#baseErrorListeners.has(l)) (l as (e: Error) => void)(stopped);
    entity.removeAllListeners();
    entity.on("error", () => {});
    sm.removeAllListeners();
    this.#state = "stopped";
    if (this.#start) {
      const s = this.#start;
      this.#start = undefined;
      s.reject(new TransportStoppedError());
    }
    this.#log.info("stopped");
  }
}
