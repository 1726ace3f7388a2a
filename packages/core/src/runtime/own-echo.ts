/** Recognises the bot's own stanzas coming back: room echoes (nick learned from MUC self-presence, status 110) and its own JID. */
import type { Context } from "../context.ts";
import { NS } from "../stanza.ts";

/** Remembers the bot's nick per room. */
export class OwnEchoFilter {
  readonly #ownNicks = new Map<string, string>();

  /** True for the bot's own message echoed by a room, or a stanza from its own full JID `self`. */
  isOwnEcho(ctx: Context, self: string | undefined): boolean {
    if (ctx.kind === "presence" && ctx.room && ctx.nick) {
      const x = ctx.stanza.getChild("x", NS.mucUser);
      const selfPresence = x?.getChildren("status").some((s) => s.attrs.code === "110");
      if (selfPresence) {
        if (ctx.type === "unavailable") this.#ownNicks.delete(ctx.room);
        else this.#ownNicks.set(ctx.room, ctx.nick);
      }
      return false;
    }
    if (ctx.kind === "message" && ctx.room) return ctx.nick !== undefined && this.#ownNicks.get(ctx.room) === ctx.nick;
    // An iq get/set from our own full JID still gets its answer (RFC 6120 §8.2.3).
    return ctx.kind !== "iq" && self !== undefined && ctx.from === self;
  }
}
