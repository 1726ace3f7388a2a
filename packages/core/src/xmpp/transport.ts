/**
 * The XMPP transport: one bot account over xmpp.js 0.14. This file only assembles; each concern is
 * a module that receives its collaborators by name (see README.md in this folder for the picture):
 * client.ts (xmpp.js parts, SASL, XEP-0198 plugin), connect.ts (one attempt), sasl-choice.ts,
 * reconnect.ts (policy, backoff, watchdog), redirect.ts (see-other-host), session.ts (online
 * session, keepalive, presence), outbox.ts + wire.ts (outbound), inbound.ts (delivery, redelivery
 * filter), intake.ts (back-pressure), shutdown.ts (stop, fatal), xmpp-js-patches.ts.
 */
import type { Element } from "@xmpp/xml";
import { TypedEmitter } from "../emitter.ts";
import { registerSecret } from "../logger.ts";
import type { TransportEvents } from "../transport.ts";
import type { Mechanism } from "../config/config.ts";
import { assembleClient, type XmppClientParts } from "./client.ts";
import { TransportStoppedError } from "./errors.ts";
import { Outbox } from "./outbox.ts";
import { IntakeGate, setSocketReading } from "./intake.ts";
import { createConnector } from "./connect.ts";
import { createReconnect, type Reconnect } from "./reconnect.ts";
import { createRedirect } from "./redirect.ts";
import { createSaslChooser, type SaslChooser } from "./sasl-choice.ts";
import { createSession, type Session } from "./session.ts";
import { createShutdown, type Shutdown } from "./shutdown.ts";
import { deliverInbound } from "./inbound.ts";
import { SizeGuard } from "./wire.ts";
import { baseline, onSeeOtherHost, teardown, trackClose } from "./xmpp-js-patches.ts";
import { isDone, type Link } from "./link.ts";
import type { XmppTransport, XmppTransportOptions, XmppTransportStats } from "./transport-types.ts";

export type { BeforeSaslContext, BeforeSaslResult, XmppTransport, XmppTransportOptions, XmppTransportStats } from "./transport-types.ts";

/** Create the XMPP transport. Nothing happens until `start()`. */
export function createXmppTransport(options: XmppTransportOptions): XmppTransport {
  return new XmppTransportImpl(options);
}

class XmppTransportImpl extends TypedEmitter<TransportEvents> implements XmppTransport {
  readonly kind = "xmpp";
  initialPresence: (() => Element) | undefined = undefined;
  beforeInitialPresence: (() => Promise<void>) | undefined = undefined;
  readonly #o: XmppTransportOptions;
  readonly #link: Link;
  readonly #parts: XmppClientParts;
  readonly #outbox: Outbox;
  readonly #intake: IntakeGate;
  readonly #size: SizeGuard;
  readonly #sasl: SaslChooser;
  readonly #session: Session;
  readonly #reconnect: Reconnect;
  readonly #shutdown: Shutdown;
  #inboundPaused = false;
  /** The mechanism of the last successful authentication (what `auto` resolved to). */
  #saslMechanism: Mechanism | undefined;
  #droppedRefused = 0;
  #droppedTooDeep = 0;

  constructor(o: XmppTransportOptions) {
    super();
    this.#o = o;
    const cfg = o.config;
    const t = cfg.tuning;
    registerSecret(cfg.password);
    registerSecret(cfg.accessToken);
    const link: Link = (this.#link = { phase: "new", step: "DNS", connections: 0, jid: "", log: o.logger.child({ component: "xmpp" }), start: undefined });
    const outbox = (this.#outbox = new Outbox({ limit: t.outboxLimit, overflow: t.outboxOverflow, logger: link.log, onDepth: (n) => intake.update(n) }));
    const intake = (this.#intake = new IntakeGate({
      high: Math.max(1, Math.floor(t.outboxLimit / 2)),
      low: Math.floor(t.outboxLimit / 4),
      checkMs: Math.max(50, Math.min(5000, t.pingIntervalMs / 3, t.smAckTimeoutMs / 3)),
      depth: () => outbox.depth,
      setReading: (reading) => {
        if (link.phase === "online" || link.phase === "stopping") setSocketReading(this.#parts.entity.socket, reading);
      },
      canPause: () => link.phase === "online",
      onProgress: () => this.#session.touch(),
      logger: link.log,
    }));
    this.#sasl = createSaslChooser(o, link, () => this.#parts.entity.isSecure());
    const parts = (this.#parts = assembleClient({
      domain: cfg.domain,
      resource: cfg.resource,
      tls: { servername: cfg.domain, ca: cfg.ca, onSocket: o.onSocket },
      // xmpp.js's own waits (stream header, stream close) end within half the attempt's budget.
      timeoutMs: Math.min(t.connectTimeoutMs / 2, 10_000),
      smAckTimeoutMs: t.smAckTimeoutMs,
      sm: { returns: outbox, readPaused: () => intake.paused, onDead: (r) => this.#session.dead(r), logger: link.log },
      debug: o.debug ?? cfg.debug,
      onTlsStep: () => (link.step = "TLS"),
      onDropped: (what) => {
        this.#droppedTooDeep++;
        link.log.warn("dropped an inbound stanza", { ...what });
      },
      sasl: {
        allowInsecure: cfg.allowInsecure,
        timeoutMs: t.saslTimeoutMs,
        choose: (offered) => this.#sasl.choose(offered),
        onStart: (m) => {
          link.step = "SASL";
          link.log.debug("authenticating", { mechanism: m });
        },
        onSuccess: (m) => {
          this.#saslMechanism = m;
          link.step = "resource binding";
        },
      },
    }));
    const { entity, sm } = parts;
    sm.on("refused", ({ el, bytes }) => {
      this.#droppedRefused++;
      link.log.warn("the server refused a stanza (policy-violation): dropped, never sent again", { bytes, limit: this.#size.limit, to: el.attrs.to, stanza: el.name, id: el.attrs.id });
    });
    const redirect = createRedirect();
    onSeeOtherHost(entity, (host) => redirect.redirected(host, entity.options.service, link.log));
    const close = trackClose(entity);
    this.#size = new SizeGuard(cfg, link);
    const down = (): Promise<void> => teardown(entity, base, close);
    const connector = createConnector({ entity, sm, config: cfg, link, redirect, logger: o.logger, teardown: down, closing: () => Boolean(close.closing()), random: o.random });
    this.#session = createSession({
      parts, config: cfg, link, outbox, intake, size: this.#size, connector,
      reconnect: () => this.#reconnect,
      presence: () => this.initialPresence?.(),
      beforePresence: () => this.beforeInitialPresence,
      emit: (event, payload) => this.emit(event, payload),
    });
    this.#reconnect = createReconnect({
      entity, config: cfg, link, connector, redirect, sasl: this.#sasl, hasTokenProvider: Boolean(o.tokenProvider), teardown: down, random: o.random,
      onUp: (outcome) => this.#session.up(outcome),
      onFatal: (e, code) => this.#shutdown.fatal(e, code),
      onLost: (reason) => this.#session.dead(reason),
      emit: (event, payload) => this.emit(event, payload),
    });
    deliverInbound({ parts, link, intake, paused: () => this.#inboundPaused, deliver: (el) => this.emit("stanza", el) });
    const base = baseline(entity);
    this.#shutdown = createShutdown({
      parts, link, stopTimeoutMs: t.stopTimeoutMs, outbox, intake, connector, reconnect: this.#reconnect, session: this.#session, baseline: base, teardown: down,
      emit: (event, payload) => this.emit(event, payload),
    });
  }

  get jid(): string | undefined {
    return this.#link.phase === "online" ? this.#link.jid : undefined;
  }
  get outboxDepth(): number {
    return this.#outbox.depth;
  }
  get unackedCount(): number {
    return this.#parts.sm.unacked;
  }
  get streamManagement(): boolean {
    return this.#parts.sm.enabled;
  }
  get maxStanzaBytes(): number {
    return this.#size.limit;
  }
  get saslMechanism(): Mechanism | undefined {
    return this.#saslMechanism;
  }
  get stats(): XmppTransportStats {
    return {
      droppedTooLarge: this.#size.dropped,
      droppedRefused: this.#droppedRefused,
      droppedTooDeep: this.#droppedTooDeep,
      outboxRejected: this.#outbox.rejected,
      intakePauses: this.#intake.pauses,
      intakePaused: this.#intake.paused,
    };
  }

  start(): Promise<void> {
    if (this.#link.phase !== "new") return Promise.reject(new Error("start() may be called once"));
    return new Promise<void>((resolve, reject) => {
      this.#link.start = { resolve, reject, attempts: 0 };
      this.#o.tokenProvider?.on?.("refreshed", (p) => {
        if (this.#link.phase !== "stopped") this.emit("token-refreshed", { expiresAt: p.expiresAt });
      });
      this.#reconnect.begin();
    });
  }

  send(stanza: Element): Promise<void> {
    if (isDone(this.#link)) return Promise.reject(new TransportStoppedError());
    const err = this.#size.tooLarge(stanza, "before sending");
    if (err) return Promise.reject(err);
    return this.#outbox.push(stanza);
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
      if (this.#link.phase === "online") this.#link.log.debug("no XEP-0198 on this stream: inbound stanzas still delivered until stop");
      return;
    }
    this.#inboundPaused = true;
    sm.freezeInbound();
    this.#link.log.debug("inbound paused; later stanzas stay with the server", { acknowledged: sm.inbound });
  }

  /** The runtime's backlog is over (true) or back under (false) its bound: stop or restart reading the socket (intake.ts). */
  setInboundPressure(paused: boolean): void {
    this.#intake.setPressure(paused);
  }

  stop(): Promise<void> {
    return this.#shutdown.stop();
  }
}
