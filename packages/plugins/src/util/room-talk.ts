/**
 * Who is talking to whom in a room: XEP-0461 reply markers, and whether a room message addresses
 * the bot (its nick per room: core's `RoomNicks`, from XEP-0045 self-presence). Shared by
 * the rooms plugin, the commands router and the rate limiter, so they agree on "addressed".
 *
 * Loop rule (issue 9.9): a bot's answer to a mention carries a XEP-0461 `<reply/>` to the
 * message it answers; a message that is a reply to one of the bot's own messages never counts
 * as a mention, and gets no "Unknown command". Two botrun bots greeting each other stop after
 * one answer each.
 */
import { escapeRegExp, NS, xml, type Context, type Element, type RoomNicks } from "@botrun/core";

/** XEP-0461 message replies. */
export const NS_REPLY = "urn:xmpp:reply:0";

/** XEP-0461 `<reply to id/>` for an answer to `ctx`'s message (the room's XEP-0359 stanza-id when it stamped one). */
export function replyMarker(ctx: Context): Element {
  const room = ctx.room;
  const stamped = room
    ? ctx.stanza.getChildren("stanza-id", NS.sid).find((s) => String(s.attrs.by ?? "").toLowerCase() === room)?.attrs.id
    : undefined;
  const id = String(stamped ?? ctx.stanza.attrs.id ?? "");
  return xml("reply", { xmlns: NS_REPLY, to: ctx.from, ...(id ? { id } : {}) });
}

/** The JID whose message this one replies to (XEP-0461 `<reply to>`), if any. */
export function repliesTo(stanza: Element): string | undefined {
  const to = stanza.getChild("reply", NS_REPLY)?.attrs.to;
  return to ? String(to) : undefined;
}

/** True when `ctx` (a room message) is a XEP-0461 reply to one of the bot's own messages (its nick from `nicks`). */
export function repliesToMe(ctx: Context, nicks: RoomNicks): boolean {
  const nick = nicks.get(ctx.room);
  const to = repliesTo(ctx.stanza);
  return nick !== undefined && to !== undefined && to.toLowerCase() === `${ctx.room}/${nick}`.toLowerCase();
}

/** True when `text` names `nick` as a word (`nick:`, `@nick`, `hey nick!`), case-insensitively. */
export function mentions(text: string, nick: string): boolean {
  const esc = escapeRegExp(nick);
  return new RegExp(`(^|[^\\p{L}\\p{N}_])@?${esc}($|[^\\p{L}\\p{N}_])`, "iu").test(text);
}
