/**
 * Answers the iq requests a bot sends on a transport with no server (terminal chat, test kit),
 * as a real server would: a roster get gets an empty roster, a ping a result, anything else
 * `service-unavailable` (RFC 6120 §8.4; RFC 6121 §8.5.2 for a contact with no resource online).
 */
import type { Element } from "@xmpp/xml";
import { bare, domain } from "../jid.ts";
import { iqError, iqResult, NS, StanzaError, xml } from "../stanza.ts";

/** The reply a server would send to `iq` sent by `botJid`, or undefined when `iq` is not an iq get/set. */
export function simulateIqReply(iq: Element, botJid: string): Element | undefined {
  if (iq.name !== "iq" || (iq.attrs.type !== "get" && iq.attrs.type !== "set")) return undefined;
  const to = String(iq.attrs.to ?? "");
  const toServer = to === "" || to === bare(botJid) || to === domain(botJid);
  const child = iq.getChildElements()[0];
  const ns = child?.attrs.xmlns;
  if (toServer && iq.attrs.type === "get" && ns === NS.roster) return simulatedReply(iq, xml("query", { xmlns: NS.roster }), botJid);
  if (toServer && (ns === NS.ping || ns === NS.roster)) return simulatedReply(iq, null, botJid);
  return simulatedReply(iq, new StanzaError("service-unavailable", "cancel"), botJid);
}

/** The iq answering `request` (sent by `botJid`) from its addressee: a result with a payload, an empty result (`null`), or an error. */
export function simulatedReply(request: Element, reply: Element | null | StanzaError, botJid: string): Element {
  const el = reply instanceof StanzaError ? iqError(request, reply) : iqResult(request, reply ?? undefined);
  el.attrs.to = botJid;
  if (request.attrs.to) el.attrs.from = String(request.attrs.to);
  return el;
}
