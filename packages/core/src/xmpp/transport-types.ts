/** The XMPP transport's public types: options, hooks, and what it exposes beyond `Transport`. */
import type net from "node:net";
import type { Logger } from "../logger.ts";
import type { Transport } from "../transport.ts";
import type { TokenProvider } from "../auth/types.ts";
import type { BotConfig, Mechanism } from "../config/config.ts";
import type { SaslCredentials } from "./sasl-mechanisms.ts";

/** What `onBeforeSasl` is told on each connect. */
export interface BeforeSaslContext {
  /** Mechanisms the server offers. */
  offered: string[];
  /** The configured mechanism (what will be used unless the hook says otherwise). */
  mechanism: Mechanism;
  /** 1 for the first connect, then increasing. */
  connection: number;
  domain: string;
  username: string | undefined;
  secure: boolean;
}

/** What `onBeforeSasl` may change for this connect (MatriX's OnBeforeSasl: mechanism and properties). */
export interface BeforeSaslResult {
  mechanism?: Mechanism;
  /** Credentials to use; an `accessToken` here skips the token provider for this connect. */
  credentials?: SaslCredentials;
}

/** Options of `createXmppTransport`. */
export interface XmppTransportOptions {
  config: BotConfig;
  /** Supplies a fresh access token on every connect (X-MESSENGER-OAUTH2); else `config.accessToken` is used. */
  tokenProvider?: TokenProvider;
  logger: Logger;
  /** Called before SASL on every connect. */
  onBeforeSasl?: (ctx: BeforeSaslContext) => BeforeSaslResult | void | Promise<BeforeSaslResult | void>;
  /** Trace the XML stream on the console (xmpp/debug-trace.ts; SASL payloads hidden). Default: `config.debug`. */
  debug?: boolean;
  /** Random source for backoff jitter and SRV weights (tests). */
  random?: () => number;
  /** Observe each new TCP/TLS socket (tests check TCP_NODELAY). */
  onSocket?: (socket: net.Socket) => void;
}

/** The XMPP transport, with metrics accessors beyond `Transport`. */
export interface XmppTransport extends Transport {
  /** Stanzas waiting in the outbox. */
  readonly outboxDepth: number;
  /** Stanzas written but not yet acknowledged by XEP-0198 (0 without SM). */
  readonly unackedCount: number;
  /** True when XEP-0198 is enabled on the current stream. */
  readonly streamManagement: boolean;
  /** Largest outgoing stanza accepted now, UTF-8 bytes (XEP-0478 limit, `XMPP_MAX_STANZA_BYTES` or the default). */
  readonly maxStanzaBytes: number;
  /** Counters and states for metrics. */
  readonly stats: XmppTransportStats;
  /** The SASL mechanism the last successful authentication used (`auto` resolved), undefined before one. */
  readonly saslMechanism: Mechanism | undefined;
}

/** What the transport counts (read by the metrics). */
export interface XmppTransportStats {
  /** Outgoing stanzas dropped before sending: larger than `maxStanzaBytes`. */
  readonly droppedTooLarge: number;
  /** Outgoing stanzas the server refused (stream closed with `policy-violation`), dropped, not sent again. */
  readonly droppedRefused: number;
  /** Inbound stanzas dropped before any handler saw them: nested deeper than `MAX_STANZA_DEPTH` (xmpp/parser.ts). */
  readonly droppedTooDeep: number;
  /** `send()` calls rejected with `OutboxFullError`. */
  readonly outboxRejected: number;
  /** Times the intake was paused because the outbox was over its high-water mark. */
  readonly intakePauses: number;
  /** True while the socket is not read (outbox over its high-water mark). */
  readonly intakePaused: boolean;
}
