/**
 * The inbound path's last middleware: a message, presence or iq that got this far is handed to the
 * transport's `stanza` listeners unless inbound is paused (then neither delivered nor counted for
 * XEP-0198, so the server keeps it) or it is a redelivery of one handled before (redelivery.ts).
 * Each one also lets the intake gate pause reading again if the outbox is still over its mark.
 */
import type { Element } from "@xmpp/xml";
import { errorText } from "./async-util.ts";
import type { XmppClientParts } from "./client.ts";
import type { IntakeGate } from "./intake.ts";
import { RedeliveryFilter } from "./redelivery.ts";
import { bareJid, type Link } from "./link.ts";

/** Collaborators of `deliverInbound`. */
export interface InboundDeps {
  parts: XmppClientParts;
  link: Link;
  intake: IntakeGate;
  /** `pauseInbound()` took effect. */
  paused(): boolean;
  deliver(el: Element): void;
}

/** Register the delivering middleware (after all built-in ones). */
export function deliverInbound(d: InboundDeps): void {
  const redeliveries = new RedeliveryFilter();
  const { link } = d;
  // Our bare JID, derived once per JID instead of once per stanza.
  let full = "";
  let own = "";
  const ownBare = (): string => {
    if (link.jid !== full) {
      full = link.jid;
      own = bareJid(link);
    }
    return own;
  };
  d.parts.use((ctx, next) => {
    const el = ctx.stanza;
    const name = el.name;
    if (name !== "message" && name !== "presence" && name !== "iq") return next();
    // Paused: not counted for XEP-0198 either (frozen in the same tick, stream-management.ts), so the server keeps it.
    if (d.paused()) return next();
    if (link.phase === "online") d.intake.inbound();
    const redelivery = redeliveries.check(el, ownBare());
    if (redelivery) {
      link.log.info("dropped a redelivered message (handled before)", { from: el.attrs.from, id: el.attrs.id, by: redelivery });
      return next();
    }
    try {
      d.deliver(el);
    } catch (err) {
      link.log.error("stanza listener threw", { error: errorText(err) });
    }
    return next();
  });
}
