/**
 * Assembles an xmpp.js 0.14 client from its parts, mirroring `@xmpp/client/index.js` but with our
 * own sockets (CA, TCP_NODELAY), STARTTLS, SASL (raw-token X-MESSENGER-OAUTH2, forced mechanism,
 * timeout), XEP-0198 (stream-management.ts, not @xmpp/stream-management), no @xmpp/reconnect (the
 * transport runs its own loop), and safe input: UTF-8 decoded as
 * a stream, a parser that never throws and bounds depth, a non-recursive debug trace.
 * SASL2/FAST/bind2 are left out.
 */
import { Client } from "@xmpp/client-core";
import xml, { type Element } from "@xmpp/xml";
import _streamFeatures from "@xmpp/stream-features";
import _iqCaller from "@xmpp/iq/caller.js";
import _resourceBinding from "@xmpp/resource-binding";
import { makeConnectionClasses, type TlsSettings } from "./sockets.ts";
import { isTruncated, MAX_STANZA_DEPTH } from "./parser.ts";
import { patchInbound } from "./xmpp-js-patches.ts";
import { middleware as createMiddleware, type MiddlewareEntity } from "./middleware.ts";
import { traceEntity } from "./debug-trace.ts";
import { starttlsFeature } from "./starttls.ts";
import { NS_SASL, saslFeature, type SaslFeatureOptions } from "./sasl.ts";
import { markInternal } from "./internal-stanzas.ts";
import { StreamManagement, type StreamManagementOptions } from "./stream-management.ts";

export { markInternal, isInternal } from "./internal-stanzas.ts";

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

/** The pieces the transport drives. */
export interface XmppClientParts {
  entity: XmppEntity;
  /** Our XEP-0198 plugin (stream-management.ts). */
  sm: StreamManagement;
  iqRequest(el: Element, timeoutMs: number): Promise<Element>;
  /** Add an incoming-element middleware after all built-in ones. */
  use(fn: (ctx: { stanza: Element }, next: () => Promise<unknown>) => unknown): void;
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
  /** The rest of the XEP-0198 plugin's collaborators (where lost stanzas go back, dead-link report). */
  sm?: Omit<StreamManagementOptions, "entity" | "streamFeatures" | "ackTimeoutMs">;
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
/** A settled send's result, ignored (no reply element for the chain). */
const nothing = (): undefined => undefined;

/** Build the client. Nothing connects until the transport calls `entity.connect()`. */
export function assembleClient(opts: AssembleOptions): XmppClientParts {
  const entity = new (Client as unknown as new (o: object) => XmppEntity & { transports: unknown[] })({
    domain: opts.domain,
    timeout: opts.timeoutMs,
  });
  entity.transports.push(...makeConnectionClasses(opts.tls));
  patchInbound(entity);

  const middleware = createMiddleware({ entity: entity as unknown as MiddlewareEntity });
  // First of all middleware: an element the parser truncated (nested deeper than MAX_STANZA_DEPTH)
  // is dropped, still counted for XEP-0198 (handled, so never redelivered: resetting the stream
  // instead would meet the same stanza again on every reconnect). An iq get/set must be answered
  // (RFC 6120 §8.2.3): <policy-violation/>, "violated some local service policy" (§8.3.3.12).
  const onDropped = opts.onDropped ?? ((d: DroppedElement) => console.warn(`botrun: dropped an inbound ${d.name}: ${d.reason}`, d));
  // Plain functions, not async ones: passing a stanza on costs no promise (middleware.ts).
  middleware.use(({ stanza }: { stanza: Element }, next: () => Promise<unknown>) => {
    if (!isTruncated(stanza)) return next();
    const { type, id, from } = stanza.attrs as Record<string, string | undefined>;
    onDropped({ name: stanza.name, type, id, from, reason: `nested deeper than ${MAX_STANZA_DEPTH} levels` });
    if (stanza.name === "iq" && (type === "get" || type === "set")) {
      const error = xml("error", { type: "modify" }, xml("policy-violation", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" }));
      return entity.send(markInternal(xml("iq", { type: "error", id, ...(from ? { to: from } : {}) }, error))).then(nothing, nothing);
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
  // Before resource binding: a resumption replaces binding.
  const sm = new StreamManagement({ ...opts.sm, entity: entity as unknown as StreamManagementOptions["entity"], streamFeatures, ackTimeoutMs: opts.smAckTimeoutMs });
  (_resourceBinding as unknown as Factory)({ iqCaller, streamFeatures }, opts.resource);

  // XEP-0199: answer the server's pings. A client's ping goes on to the runtime, whose built-in
  // responder answers it (once: an iq is answered in one place).
  const fromServer = (from: unknown): boolean =>
    !from || from === opts.domain || (entity.jid !== null && from === entity.jid.bare().toString());
  middleware.use(({ stanza }: { stanza: Element }, next: () => Promise<unknown>) => {
    if (stanza.name === "iq" && stanza.attrs.type === "get" && stanza.getChild("ping", "urn:xmpp:ping") && fromServer(stanza.attrs.from)) {
      return entity
        .send(markInternal(xml("iq", { type: "result", id: stanza.attrs.id, ...(stanza.attrs.from ? { to: stanza.attrs.from } : {}) })))
        .then(nothing, nothing);
    }
    return next();
  });

  if (opts.debug) traceEntity(entity);

  return {
    entity,
    sm,
    iqRequest: (el, timeoutMs) => iqCaller.request(el, timeoutMs),
    use: (fn) => middleware.use(fn),
  };
}
