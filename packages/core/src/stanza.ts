/** Builders and readers for the stanzas botrun sends and inspects. */
import { randomBytes } from "node:crypto";
import xml, { Element } from "@xmpp/xml";

export type { Element };
export { xml };

/** XML namespaces botrun uses. */
export const NS = {
  delay: "urn:xmpp:delay",
  mucUser: "http://jabber.org/protocol/muc#user",
  muc: "http://jabber.org/protocol/muc",
  stanzas: "urn:ietf:params:xml:ns:xmpp-stanzas",
  receipts: "urn:xmpp:receipts",
  chatStates: "http://jabber.org/protocol/chatstates",
  /** XEP-0359 unique and stable stanza ids (`origin-id`). */
  sid: "urn:xmpp:sid:0",
  /** XEP-0308 last message correction. */
  correct: "urn:xmpp:message-correct:0",
  discoInfo: "http://jabber.org/protocol/disco#info",
  discoItems: "http://jabber.org/protocol/disco#items",
  caps: "http://jabber.org/protocol/caps",
  version: "jabber:iq:version",
  time: "urn:xmpp:time",
  ping: "urn:xmpp:ping",
  last: "jabber:iq:last",
  roster: "jabber:iq:roster",
} as const;

/**
 * A source of stanza ids: `br-`, 8 characters of a random 48-bit prefix, a counter in base 36.
 * XEP-0359 §3 wants origin-ids unique and stable: a receiver may take a message whose origin-id
 * it has seen from the same sender for a duplicate, and a fleet runs the same accounts from many
 * processes over years. So the prefix is random per source (48 bits: a repeat among a million
 * processes has odds of about 2 in 1,000; with the 31 bits used before, nearly even odds among
 * 50,000), and a counter that has used its 2^32 values takes a new prefix instead of wrapping.
 * `start` is for tests of that wrap.
 */
export function idSource(start = 0): () => string {
  let prefix = randomBytes(6).toString("base64url");
  let counter = start >>> 0;
  return () => {
    if (counter === 0xffffffff) {
      prefix = randomBytes(6).toString("base64url");
      counter = 0;
    }
    counter++;
    return `br-${prefix}${counter.toString(36)}`;
  };
}

/** A unique stanza id (this process's `idSource()`). */
export const stanzaId: () => string = idSource();

/** Message types of RFC 6121. */
export type MessageType = "chat" | "groupchat" | "normal" | "headline" | "error";

/** Options of `message()`. */
export interface MessageOptions {
  to: string;
  body?: string;
  type?: MessageType;
  id?: string;
  /** Extra child elements (receipts, chat states…). */
  children?: Element[];
}

/**
 * Build a `<message>` stanza. It carries a XEP-0359 `<origin-id/>` (the stanza id), set here once,
 * so that a resend of the same stanza after a reconnect carries the same one (receivers drop duplicates).
 */
export function message(opts: MessageOptions): Element {
  const id = opts.id ?? stanzaId();
  // Built with `new Element` rather than `xml()`: the same tree (attributes as strings, no empty
  // text child), without createElement's per-call attribute rewriting, on every reply's path.
  const type = opts.type ?? "chat";
  const msg = new Element("message", opts.to != null ? { to: String(opts.to), type, id } : { type, id });
  if (opts.body !== undefined) msg.cnode(textElement("body", opts.body));
  if (opts.children) for (const c of opts.children) if (c != null) msg.cnode(c);
  msg.cnode(new Element("origin-id", { xmlns: NS.sid, id }));
  return msg;
}

/** `<name>text</name>` (`<name/>` for empty text, as `xml()` builds it). */
function textElement(name: string, text: string): Element {
  const el = new Element(name);
  if (text !== "") el.children.push(String(text));
  return el;
}

/** Presence types of RFC 6121 (`available` means no type attribute). */
export type PresenceType =
  | "available"
  | "unavailable"
  | "subscribe"
  | "subscribed"
  | "unsubscribe"
  | "unsubscribed"
  | "probe"
  | "error";

/** Options of `presence()`. */
export interface PresenceOptions {
  to?: string;
  type?: PresenceType;
  show?: "away" | "chat" | "dnd" | "xa";
  status?: string;
  priority?: number;
  children?: Element[];
}

/** Build a `<presence>` stanza. */
export function presence(opts: PresenceOptions = {}): Element {
  const attrs: Record<string, string> = {};
  if (opts.to) attrs.to = opts.to;
  if (opts.type && opts.type !== "available") attrs.type = opts.type;
  const children: Element[] = [];
  if (opts.show) children.push(xml("show", {}, opts.show));
  if (opts.status !== undefined) children.push(xml("status", {}, opts.status));
  if (opts.priority !== undefined) children.push(xml("priority", {}, String(opts.priority)));
  if (opts.children) children.push(...opts.children);
  return xml("presence", attrs, ...children);
}

/** Error types of RFC 6120 §8.3.2. */
export type StanzaErrorType = "auth" | "cancel" | "continue" | "modify" | "wait";

/** The defined conditions of RFC 6120 §8.3.3, each with the type the RFC gives it. */
const DEFAULT_TYPES = {
  "bad-request": "modify",
  conflict: "cancel",
  "feature-not-implemented": "cancel",
  forbidden: "auth",
  gone: "cancel",
  "internal-server-error": "cancel",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "policy-violation": "modify",
  "recipient-unavailable": "wait",
  redirect: "modify",
  "registration-required": "auth",
  "remote-server-not-found": "cancel",
  "remote-server-timeout": "wait",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
  "subscription-required": "auth",
  "undefined-condition": "cancel",
  "unexpected-request": "wait",
} as const satisfies Record<string, StanzaErrorType>;

/** A defined condition of RFC 6120 §8.3.3. */
export type StanzaErrorCondition = keyof typeof DEFAULT_TYPES;

/**
 * An XMPP stanza error (RFC 6120 §8.3): read from an `type="error"` stanza (`ctx.error`, a
 * rejected `request()`), or thrown by an IQ handler to answer with it:
 * `throw new StanzaError("item-not-found", "cancel", "no such note")`.
 */
export class StanzaError extends Error {
  override readonly name = "StanzaError";
  /** The defined condition, e.g. `item-not-found`, `service-unavailable`. */
  readonly condition: string;
  /** `cancel`, `modify`, `wait`, `auth` or `continue`. */
  readonly type: string;
  /** The human-readable `<text/>`, if any. */
  readonly text: string | undefined;

  /** `type` defaults to the one RFC 6120 §8.3.3 gives the condition (`cancel` for unknown ones). */
  constructor(condition: StanzaErrorCondition | (string & {}), type?: StanzaErrorType | (string & {}), text?: string) {
    super(text ? `${condition}: ${text}` : condition);
    this.condition = condition;
    this.type = type ?? (DEFAULT_TYPES as Record<string, string>)[condition] ?? "cancel";
    this.text = text;
  }

  /** The `<error/>` element (RFC 6120 §8.3.2). */
  toElement(): Element {
    const err = xml("error", { type: this.type }, xml(this.condition, { xmlns: NS.stanzas }));
    if (this.text) err.append(xml("text", { xmlns: NS.stanzas }, this.text));
    return err;
  }
}

/** Read the error of an error stanza; undefined when there is none. */
export function readStanzaError(el: Element): StanzaError | undefined {
  if (el.attrs.type !== "error") return undefined;
  const err = el.getChild("error");
  if (!err) return new StanzaError("undefined-condition", "cancel");
  let condition = "undefined-condition";
  let text: string | undefined;
  for (const child of err.getChildElements()) {
    if (child.name === "text") text = child.text();
    else if (child.attrs.xmlns === NS.stanzas) condition = child.name;
  }
  return new StanzaError(condition, String(err.attrs.type ?? "cancel"), text);
}

/** The result answering the iq get/set `request` (RFC 6120 §8.2.3), with an optional payload. */
export function iqResult(request: Element, payload?: Element): Element {
  const el = xml("iq", replyAttrs(request, "result"));
  if (payload) el.append(payload);
  return el;
}

/** The error answering the iq get/set `request` (RFC 6120 §8.3). */
export function iqError(request: Element, error: StanzaError): Element {
  return xml("iq", replyAttrs(request, "error"), error.toElement());
}

function replyAttrs(request: Element, type: string): Record<string, string> {
  const attrs: Record<string, string> = { type, id: String(request.attrs.id ?? "") };
  if (request.attrs.from) attrs.to = String(request.attrs.from);
  return attrs;
}
