/**
 * Verifying the target of a XEP-0249 direct invitation before the rooms plugin joins it: the
 * room JID must look like a room (a local part, not the inviter's nor the bot's own account) and
 * its service must answer XEP-0030 disco#info with the identity XEP-0045 §6.2 requires of a MUC
 * service (`conference/text`). Without this, an allowed inviter could "invite" the bot to her own
 * JID, answer its join with a status-110 presence from her client and feed it forged occupants.
 */
import { jid, NS, xml, type Element } from "@botrun/core";

/** Sends an iq get and resolves with its result (the plugin host's `request`). */
export type DiscoRequester = (iq: Element) => Promise<Element>;

/** Why a direct-invite target was refused (for the log), or `undefined` when it may be joined. */
export function implausibleRoom(room: string, inviter: string | undefined, self: string | undefined): string | undefined {
  if (jid.local(room) === undefined) return "the invited JID has no local part (a server, not a room)";
  const bare = room.toLowerCase();
  if (inviter && bare === jid.bare(inviter).toLowerCase()) return "the invited JID is the inviter's own";
  if (self && bare === jid.bare(self).toLowerCase()) return "the invited JID is the bot's own";
  const service = jid.domain(room).toLowerCase();
  if (inviter && service === jid.domain(inviter).toLowerCase()) return "the invited room is on the inviter's user domain, not a MUC service";
  if (self && service === jid.domain(self).toLowerCase()) return "the invited room is on the bot's own user domain, not a MUC service";
  return undefined;
}

/** True when `service` answers disco#info with identity category `conference`, type `text` (XEP-0045 §6.2). */
export async function isMucService(request: DiscoRequester, service: string): Promise<boolean> {
  const res = await request(xml("iq", { type: "get", to: service }, xml("query", { xmlns: NS.discoInfo }))).catch(() => undefined);
  const query = res?.getChild("query", NS.discoInfo);
  return query?.getChildren("identity").some((i) => i.attrs.category === "conference" && i.attrs.type === "text") === true;
}
