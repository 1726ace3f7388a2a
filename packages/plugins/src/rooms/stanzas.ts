/** MUC (XEP-0045) and direct-invitation (XEP-0249) stanzas the rooms plugin sends and reads. */
import { jid, message, NS, presence, xml, type Element } from "@botrun/core";

/** XEP-0249 direct invitations. */
export const NS_CONFERENCE = "jabber:x:conference";

/** The join presence: `<presence to="room/nick"><x xmlns=muc><password/><history maxstanzas="0"/></x></presence>`. */
export function joinPresence(room: string, nick: string, opts: { password?: string; noHistory?: boolean }): Element {
  const x = xml("x", { xmlns: NS.muc });
  if (opts.password !== undefined) x.append(xml("password", {}, opts.password));
  if (opts.noHistory) x.append(xml("history", { maxstanzas: "0" }));
  return presence({ to: `${room}/${nick}`, children: [x] });
}

/** Leave a room. */
export function leavePresence(room: string, nick: string, status?: string): Element {
  return presence({ to: `${room}/${nick}`, type: "unavailable", status });
}

/** Decline a mediated invitation. */
export function declineInvite(room: string, inviter: string, reason: string): Element {
  return message({
    to: room,
    type: "normal",
    children: [xml("x", { xmlns: NS.mucUser }, xml("decline", { to: inviter }, xml("reason", {}, reason)))],
  });
}

/** An invitation found in a message. */
export interface Invite {
  room: string;
  /** Bare JID of who invited (may be undefined for anonymous mediated invites); what the invite policy checks. */
  from: string | undefined;
  /** The inviter's JID as given (a room occupant JID in semi-anonymous rooms): where a decline goes. */
  inviter: string | undefined;
  password: string | undefined;
  reason: string | undefined;
  kind: "mediated" | "direct";
}

/** Read a XEP-0045 mediated invite or a XEP-0249 direct invite. */
export function readInvite(stanza: Element): Invite | undefined {
  const from = String(stanza.attrs.from ?? "");
  const muc = stanza.getChild("x", NS.mucUser);
  const inv = muc?.getChild("invite");
  if (muc && inv) {
    const inviter = inv.attrs.from ? String(inv.attrs.from) : undefined;
    return { room: jid.bare(from), from: inviter && jid.bare(inviter), inviter, password: muc.getChildText("password") ?? undefined, reason: inv.getChildText("reason") ?? undefined, kind: "mediated" };
  }
  const direct = stanza.getChild("x", NS_CONFERENCE);
  if (direct?.attrs.jid) {
    return {
      room: jid.bare(String(direct.attrs.jid)),
      from: jid.bare(from),
      inviter: from,
      password: direct.attrs.password as string | undefined,
      reason: direct.attrs.reason as string | undefined,
      kind: "direct",
    };
  }
  return undefined;
}
