/**
 * XEP-0359 origin-id on every message the bot sends: `message()` sets one when it builds the
 * stanza; this built-in adds one to messages built otherwise. The element is added to the stanza
 * object itself, once, so a resend of the same stanza (outbox after a reconnect) carries the same id.
 */
import type { Element } from "@xmpp/xml";
import type { Plugin } from "../plugin.ts";
import { NS, stanzaId, xml } from "../stanza.ts";

/** Add an `<origin-id/>` to an outgoing message that has none (not to errors). Mutates and returns it. */
export function addOriginId(stanza: Element): Element {
  if (stanza.name !== "message" || stanza.attrs.type === "error" || stanza.getChild("origin-id", NS.sid)) return stanza;
  if (!stanza.attrs.id) stanza.attrs.id = stanzaId();
  stanza.append(xml("origin-id", { xmlns: NS.sid, id: String(stanza.attrs.id) }));
  return stanza;
}

/** The built-in plugin adding origin-ids. */
export function originIds(): Plugin {
  return { name: "core:origin-id", features: [NS.sid], transformSend: (stanza, next) => next(addOriginId(stanza)) };
}
