/**
 * A tiny multi-user-chat service simulation shared by the terminal chat and the test kit:
 * a join presence to `room/nick` is answered with self-presence (status 110), and the bot's
 * group-chat messages are echoed back from its nick, as a real XEP-0045 room does.
 */
import type { Element } from "@xmpp/xml";
import { bare } from "../jid.ts";
import { NS, xml } from "../stanza.ts";

/** Simulates rooms for a transport with no server. */
export class MucSimulator {
  readonly rooms = new Map<string, string>();

  constructor(
    /** Delivers a simulated inbound stanza to the bot. */
    private readonly deliver: (stanza: Element) => void,
    private readonly botJid: () => string,
  ) {}

  /** Look at a stanza the bot sends; answer it as a room would. Returns true if it was room traffic. */
  outbound(stanza: Element): boolean {
    const to = String(stanza.attrs.to ?? "");
    const slash = to.indexOf("/");
    if (stanza.name === "presence" && slash !== -1 && (stanza.getChild("x", NS.muc) || this.rooms.has(bare(to)))) {
      const room = bare(to);
      const leaving = stanza.attrs.type === "unavailable";
      if (leaving) this.rooms.delete(room);
      else this.rooms.set(room, to.slice(slash + 1));
      this.deliver(
        xml(
          "presence",
          { from: to, to: this.botJid(), ...(leaving ? { type: "unavailable" } : {}) },
          xml("x", { xmlns: NS.mucUser }, xml("item", { affiliation: "none", role: "participant" }), xml("status", { code: "110" })),
        ),
      );
      return true;
    }
    if (stanza.name === "message" && stanza.attrs.type === "groupchat") {
      const room = bare(to);
      const nick = this.rooms.get(room);
      if (nick !== undefined) {
        this.deliver(xml("message", { ...stanza.attrs, from: `${room}/${nick}`, to: this.botJid() }, ...stanza.getChildElements()));
      }
      return true;
    }
    return false;
  }

  /** Forget every room (a new session). */
  reset(): void {
    this.rooms.clear();
  }
}
