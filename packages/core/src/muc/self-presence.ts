/**
 * The bot's own place in XEP-0045 rooms, read from self-presence: the muc#user status codes of a
 * presence and the bot's nick per room (status 110, XEP-0045 §7.2.2). One tracker for the runtime's
 * own-echo filter and for plugins (commands, rate limits) that need to know "is this me?".
 */
import type { Context } from "../context.ts";
import { NS, type Element } from "../stanza.ts";

/** The XEP-0045 muc#user status codes of a presence (110 self, 303 nick change, 307 kicked, …). */
export function mucStatusCodes(stanza: Element): string[] {
  return stanza.getChild("x", NS.mucUser)?.getChildren("status").map((s) => String(s.attrs.code)) ?? [];
}

/** The bot's nick in each room it is in, learned from the rooms' self-presence. */
export class RoomNicks {
  readonly #nicks = new Map<string, string>();

  /** Look at any stanza: a self-presence (status 110) remembers the bot's nick in its room, an unavailable one forgets it. */
  track(ctx: Context): void {
    if (ctx.kind !== "presence" || !ctx.room || !ctx.nick) return;
    if (!mucStatusCodes(ctx.stanza).includes("110")) return;
    if (ctx.type === "unavailable") this.#nicks.delete(ctx.room);
    else this.#nicks.set(ctx.room, ctx.nick);
  }

  /** The bot's nick in `room`, if it is in it. */
  get(room: string | undefined): string | undefined {
    return room ? this.#nicks.get(room) : undefined;
  }
}
