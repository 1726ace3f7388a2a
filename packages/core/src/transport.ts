/**
 * The transport contract: what carries stanzas between a bot and the world.
 * The XMPP client, the terminal chat and the offline test kit all implement it,
 * so bot code cannot tell them apart.
 */
import type { Element } from "@xmpp/xml";
import { TypedEmitter } from "./emitter.ts";

/** Events every transport may emit. Payloads carry no secrets. */
export interface TransportEvents {
  /**
   * A new session is established (initial connect or after a failed resumption). `rosterVersioning`:
   * the server advertised roster versioning (RFC 6121 §2.6.1, XEP-0237); undefined when not known.
   */
  online: { jid: string; resumed: false; rosterVersioning?: boolean };
  /** A XEP-0198 session was resumed: no new presence or room joins are needed. */
  resumed: { jid: string };
  /** The connection dropped; a reconnect will follow unless stopping. */
  offline: { reason: string };
  /** A reconnect attempt is scheduled. */
  reconnecting: { attempt: number; delayMs: number };
  /** An OAuth access token was refreshed. */
  "token-refreshed": { expiresAt: number | undefined };
  /** The transport gave up for good; the bot must stop with `exitCode`. */
  fatal: { error: Error; exitCode: number };
  /** An inbound stanza. */
  stanza: Element;
}

/** Carries stanzas. One instance serves one bot account. */
export interface Transport extends TypedEmitter<TransportEvents> {
  /** "xmpp", "console", "test", …: for logs and diagnostics only. */
  readonly kind: string;
  /** The bot's own full JID while online, else undefined. */
  readonly jid: string | undefined;
  /** Connect. Resolves once the first session is online; rejects on a fatal start error. */
  start(): Promise<void>;
  /**
   * Queue a stanza for delivery. Resolves once the transport has accepted it
   * (it is in the outbox); it is delivered after a reconnect if offline now.
   */
  send(stanza: Element): Promise<void>;
  /**
   * Stop delivering inbound stanzas (the runtime is about to stop). Stanzas received afterwards
   * must not be acknowledged (XEP-0198), so the server keeps them (offline storage, or redelivery
   * on the next session) instead of losing them. A transport that cannot keep them from being
   * lost (no XEP-0198 on the stream) keeps delivering instead: the runtime handles what still
   * arrives until `stop()` (at most once). Optional: transports without acknowledgements omit it.
   */
  pauseInbound?(): void;
  /**
   * Back-pressure from the runtime: `true` while more stanzas wait to be handled (and replies wait in
   * plugins such as the throttle) than the runtime's `maxBacklog`; `false` once it is down to its
   * low-water mark. A transport stops reading from the network meanwhile (TCP flow control keeps
   * further stanzas at the server, neither delivered nor acknowledged) and reads again on `false`.
   * Optional: without it the runtime refuses stanzas past its hard cap (see `RuntimeOptions.maxBacklog`).
   */
  setInboundPressure?(paused: boolean): void;
  /**
   * Builds the initial presence a transport announces itself on each new session; set by the
   * runtime (it carries the XEP-0115 caps). Transports that announce presence use it when set.
   */
  initialPresence?: () => Element;
  /**
   * Set by the runtime: what the transport awaits (bounded) after emitting `online` and before it
   * sends initial presence, so the roster is requested first (RFC 6121 §2.2).
   */
  beforeInitialPresence?: () => Promise<void>;
  /** Stop taking stanzas, flush what is queued (bounded), say goodbye, close. */
  stop(): Promise<void>;
}
