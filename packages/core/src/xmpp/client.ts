/**
 * Assembles an xmpp.js 0.14 client from its parts, mirroring `@xmpp/client/index.js` but with our
 * own sockets (CA, TCP_NODELAY), STARTTLS, SASL (raw-token X-MESSENGER-OAUTH2, forced mechanism,
 * timeout), no @xmpp/reconnect (the transport runs its own loop), and safe input: UTF-8 decoded as
 * a stream, a parser that never throws and bounds depth, a non-recursive debug trace.
 * SASL2/FAST/bind2 are left out.
 */
import { Client } from "@xmpp/client-core";
import xml, { type Element } from "@xmpp/xml";
import _middleware from "@xmpp/middleware";
import _streamFeatures from "@xmpp/stream-features";
import _iqCaller from "@xmpp/iq/caller.js";
import _resourceBinding from "@xmpp/resource-binding";
import _streamManagement from "@xmpp/stream-management";
import { makeConnectionClasses, type TlsSettings } from "./sockets.ts";
import { decodeInboundAsStream, type DecodingEntity } from "./stream-decoder.ts";
import { isTruncated, MAX_STANZA_DEPTH, specificStreamErrors } from "./parser.ts";
import { traceEntity } from "./debug-trace.ts";
import { starttlsFeature } from "./starttls.ts";
import { NS_SASL, saslFeature, type SaslFeatureOptions } from "./sasl.ts";

/** Marks stanzas the transport writes itself (presence, pings, ping replies): never requeued for a later stream. */
export const INTERNAL = Symbol("botrun.internal");
/** Mark `el` as internal (see `INTERNAL`). */
export const markInternal = <T extends Element>(el: T): T => Object.assign(el, { [INTERNAL]: true });
/** True for stanzas marked with `markInternal`. */
export const isInternal = (el: Element): boolean => Boolean((el as { [INTERNAL]?: boolean })[INTERNAL]);

/** The xmpp.js entity as the transport uses it. */
export interface XmppEntity {
  status: string;
  jid: { toString(): string; bare(): { toString(): string } } | null;
  socket: unknown;
  parser: unknown;
  options: { domain: string; service?: string; lang?: string };
  timeout: number;
  isSecure(): boolean;
  connect(service: string): Promise<unknown>;
  open(opts: { domain: string; lang?: string }): Promise<unknown>;
  send(el: Element): Promise<void>;
  disconnect(): Promise<unknown>;
  stop(): Promise<unknown>;
  restart(): Promise<unknown>;
  _detachParser(): void;
  _detachSocket(): void;
  _onSeeOtherHost: (error: { element: Element }) => unknown;
  on(event: string, fn: (...args: never[]) => void): unknown;
  removeListener(event: string, fn: (...args: never[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
  listeners(event: string): ((...args: never[]) => void)[];
}

/** XEP-0198 state as xmpp.js keeps it. */
export interface StreamManagementState {
  enabled: boolean;
  /** `<enable/>` was sent and `<enabled/>` not yet received. */
  enableSent: boolean;
  /** XEP-0198 `h`: inbound stanzas handled on this stream. */
  readonly inbound: number;
  id: string;
  timeout: number;
  requestAckInterval: number;
  outbound_q: { stanza: Element }[];
  /** XEP-0198 count of our stanzas acknowledged on this stream. */
  outbound: number;
  on(event: "ack" | "fail", fn: (stanza: Element) => void): unknown;
  on(event: "resumed", fn: () => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** The pieces the transport drives. */
export interface XmppClientParts {
  entity: XmppEntity;
  sm: StreamManagementState;
  iqRequest(el: Element, timeoutMs: number): Promise<Element>;
  /** Add an incoming-element middleware after all built-in ones. */
  use(fn: (ctx: { stanza: Element }, next: () => Promise<unknown>) => unknown): void;
  /**
   * Stop counting inbound stanzas for XEP-0198 for good: `<a h>` (on `<r/>` and the final one on
   * close) no longer acknowledges what arrives from now on, so the server keeps it.
   */
  freezeInbound(): void;
}

/** Options of `assembleClient`. */
export interface AssembleOptions {
  domain: string;
  resource?: string;
  tls: TlsSettings;
  sasl: SaslFeatureOptions;
  /** Timeout of xmpp.js's own waits (stream open/close), ms. */
  timeoutMs: number;
  smAckTimeoutMs: number;
  debug?: boolean;
  /** Told when STARTTLS begins its handshake. */
  onTlsStep?: () => void;
  /** Told (once per element) when an inbound element nested too deep is dropped; default: one `console.warn` line. */
  onDropped?: (what: DroppedElement) => void;
}

/** An inbound element dropped before any handler saw it. */
export interface DroppedElement {
  name: string;
  type?: string;
  id?: string;
  from?: string;
  reason: string;
}

type Factory = (...args: unknown[]) => unknown;

/**
 * XEP-0198's inbound counter (`h`), kept here instead of by xmpp.js 0.14, which gets it wrong:
 * - it resets `h` only in the continuation of its `<enable/>` procedure, a few microtasks after
 *   `<enabled/>` arrived: stanzas parsed from the same chunk are counted first and then wiped (the
 *   server keeps, and later redelivers, stanzas we handled), and after a failed resumption our
 *   `<a h>` still carries the old stream's count until then (Prosody: "Client acknowledged more
 *   stanzas than sent by server");
 * - it counts in a middleware that runs after the iq caller's, so the replies to our own iq
 *   requests (keepalive pings) are never counted: `h` falls behind and the server takes our last
 *   stanzas for unhandled (redelivered as duplicates after a restart);
 * - it cannot stop acknowledging (see `freezeInbound`).
 * We count every inbound message/presence/iq on the entity's `element` event (which fires right
 * after the middleware chain, in the same tick), reset on `<enabled/>`, continue across a
 * resumption, and ignore xmpp.js's own writes to `sm.inbound`.
 */
function ownInboundCounter(entity: XmppEntity, sm: StreamManagementState): { freeze(): void } {
  let inbound = (sm as unknown as { inbound: number }).inbound;
  let frozen = false;
  Object.defineProperty(sm, "inbound", {
    configurable: true,
    enumerable: true,
    get: () => inbound,
    set: () => {},
  });
  entity.on("element", (el: Element) => {
    const name = el.name;
    if (name === "message" || name === "presence" || name === "iq") {
      if (!frozen) inbound++;
    } else if (name === "enabled" && el.attrs.xmlns === "urn:xmpp:sm:3") {
      inbound = 0;
    }
  });
  return { freeze: () => void (frozen = true) };
}

/** Build the client. Nothing connects until the transport calls `entity.connect()`. */
export function assembleClient(opts: AssembleOptions): XmppClientParts {
  const entity = new (Client as unknown as new (o: object) => XmppEntity & { transports: unknown[] })({
    domain: opts.domain,
    timeout: opts.timeoutMs,
  });
  entity.transports.push(...makeConnectionClasses(opts.tls));
  decodeInboundAsStream(entity as unknown as DecodingEntity);
  specificStreamErrors(entity as unknown as Parameters<typeof specificStreamErrors>[0]);

  const middleware = (_middleware as unknown as Factory)({ entity }) as {
    use(fn: unknown): void;
  };
  // First of all middleware: an element the parser truncated (nested deeper than MAX_STANZA_DEPTH)
  // is dropped, still counted for XEP-0198 (handled, so never redelivered: resetting the stream
  // instead would meet the same stanza again on every reconnect). An iq get/set must be answered
  // (RFC 6120 §8.2.3): <policy-violation/>, "violated some local service policy" (§8.3.3.12).
  const onDropped = opts.onDropped ?? ((d: DroppedElement) => console.warn(`botrun: dropped an inbound ${d.name}: ${d.reason}`, d));
  middleware.use(async ({ stanza }: { stanza: Element }, next: () => Promise<unknown>) => {
    if (!isTruncated(stanza)) return next();
    const { type, id, from } = stanza.attrs as Record<string, string | undefined>;
    onDropped({ name: stanza.name, type, id, from, reason: `nested deeper than ${MAX_STANZA_DEPTH} levels` });
    if (stanza.name === "iq" && (type === "get" || type === "set")) {
      const error = xml("error", { type: "modify" }, xml("policy-violation", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" }));
      await entity.send(markInternal(xml("iq", { type: "error", id, ...(from ? { to: from } : {}) }, error))).catch(() => {});
    }
    return undefined;
  });
  const streamFeatures = (_streamFeatures as unknown as Factory)({ middleware }) as {
    use(name: string, ns: string, fn: unknown): void;
  };
  const iqCaller = (_iqCaller as unknown as Factory)({ middleware, entity }) as {
    request(el: Element, timeout: number): Promise<Element>;
  };

  // Stream features: order matters and defines priority (as in @xmpp/client).
  streamFeatures.use("starttls", "urn:ietf:params:xml:ns:xmpp-tls", starttlsFeature(opts.tls, opts.onTlsStep));
  streamFeatures.use("mechanisms", NS_SASL, saslFeature(opts.sasl));
  const sm = (_streamManagement as unknown as Factory)({ streamFeatures, entity, middleware }) as StreamManagementState;
  sm.timeout = opts.smAckTimeoutMs;
  const counter = ownInboundCounter(entity, sm);
  (_resourceBinding as unknown as Factory)({ iqCaller, streamFeatures }, opts.resource);

  // XEP-0199: answer the server's pings. A client's ping goes on to the runtime, whose built-in
  // responder answers it (once: an iq is answered in one place).
  const fromServer = (from: unknown): boolean =>
    !from || from === opts.domain || (entity.jid !== null && from === entity.jid.bare().toString());
  middleware.use(async ({ stanza }: { stanza: Element }, next: () => Promise<unknown>) => {
    if (stanza.is("iq") && stanza.attrs.type === "get" && stanza.getChild("ping", "urn:xmpp:ping") && fromServer(stanza.attrs.from)) {
      await entity
        .send(markInternal(xml("iq", { type: "result", id: stanza.attrs.id, ...(stanza.attrs.from ? { to: stanza.attrs.from } : {}) })))
        .catch(() => {});
      return undefined;
    }
    return next();
  });

  if (opts.debug) traceEntity(entity);

  return {
    entity,
    sm,
    iqRequest: (el, timeoutMs) => iqCaller.request(el, timeoutMs),
    use: (fn) => middleware.use(fn),
    freezeInbound: () => counter.freeze(),
  };
}
