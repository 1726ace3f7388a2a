/** Builders and readers for the stanzas botrun sends and inspects. */
import xml from "@xmpp/xml";
import type { Element } from "@xmpp/xml";

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
} as const;

let counter = 0;
const prefix = Math.random().toString(36).slice(2, 8);
/** A unique stanza id. */
export function stanzaId(): string {
  counter = (counter + 1) >>> 0;
  return `br-${prefix}-${counter.toString(36)}`;
}

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

/** Build a `<message>` stanza. */
export function message(opts: MessageOptions): Element {
  const children: Element[] = [];
  if (opts.body !== undefined) children.push(xml("body", {}, opts.body));
  if (opts.children) children.push(...opts.children);
  return xml("message", { to: opts.to, type: opts.type ?? "chat", id: opts.id ?? stanzaId() }, ...children);
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

/** An XMPP stanza error (RFC 6120 §8.3), as found in an `type="error"` stanza. */
export interface StanzaError {
  /** e.g. `cancel`, `modify`, `wait`, `auth`. */
  type: string;
  /** The defined condition, e.g. `item-not-found`, `service-unavailable`. */
  condition: string;
  text: string | undefined;
}

/** Read the error of an error stanza; undefined when there is none. */
export function readStanzaError(el: Element): StanzaError | undefined {
  if (el.attrs.type !== "error") return undefined;
  const err = el.getChild("error");
  if (!err) return { type: "cancel", condition: "undefined-condition", text: undefined };
  let condition = "undefined-condition";
  let text: string | undefined;
  for (const child of err.getChildElements()) {
    if (child.name === "text") text = child.text();
    else if (child.attrs.xmlns === NS.stanzas) condition = child.name;
  }
  return { type: String(err.attrs.type ?? "cancel"), condition, text };
}
