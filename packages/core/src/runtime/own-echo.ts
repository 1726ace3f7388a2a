/** Recognises the bot's own stanzas coming back: room echoes (nick learned from MUC self-presence, status 110) and its own JID. */
import type { Context } from "../context.ts";
import { RoomNicks } from "../muc/self-presence.ts";

/** Remembers the bot's nick per room. */
export class OwnEchoFilter {
  readonly #ownNicks = new RoomNicks();

  /** True while the bot is in `room` (its self-presence seen, no unavailable one since). */
  inRoom(room: string): boolean {
    return this.#ownNicks.get(room) !== undefined;
  }

  /** True for the bot's own message echoed by a room, or a stanza from its own full JID `self`. */
  isOwnEcho(ctx: Context, self: string | undefined): boolean {
    if (ctx.kind === "presence" && ctx.room && ctx.nick) {
      this.#ownNicks.track(ctx);
      return false;
    }
    if (ctx.kind === "message" && ctx.room) return ctx.nick !== undefined && this.#ownNicks.get(ctx.room) === ctx.nick;
    // An iq get/set from our own full JID still gets its answer (RFC 6120 §8.2.3).
    return ctx.kind !== "iq" && self !== undefined && ctx.from === self;
  }
}
