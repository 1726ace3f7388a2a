/**
 * What the rooms plugin knows of each room: the nick it asked for and got, whether it is in or
 * entering, the occupants' real JIDs, the kick backoff; and why it was removed, read from its own
 * unavailable presence (XEP-0045 status codes 301, 307, 321, 322, 332).
 */
import { jid, NS, type Element } from "@botrun/core";
import type { RemovedHow } from "./types.ts";

/** One room the plugin joins or is in. */
export interface RoomState {
  room: string;
  nick: string | undefined;
  password: string | undefined;
  attemptNick: string;
  attempts: number;
  joined: boolean;
  /** A join presence went out and no self-presence or error came back yet. */
  joining: boolean;
  /** nick → real JID (non-anonymous rooms). */
  occupants: Map<string, string | undefined>;
  /** Kicks in a row (for the rejoin backoff), when the last join succeeded, and the pending rejoin. */
  kicks: number;
  joinedAt: number;
  rejoin: ReturnType<typeof setTimeout> | undefined;
  /** Joined on the program's word (configured, `join()`): its service becomes known once joined. */
  vouched: boolean;
}

/** A room not joined yet (`room` is stored as its bare JID). */
export function newRoomState(room: string, nick: string | undefined, password: string | undefined, vouched: boolean): RoomState {
  return {
    room: jid.bare(room),
    nick: undefined,
    password,
    attemptNick: nick ?? "",
    attempts: 0,
    joined: false,
    joining: false,
    occupants: new Map(),
    kicks: 0,
    joinedAt: 0,
    rejoin: undefined,
    vouched,
  };
}

/** How the bot's own unavailable presence says it left: banned (301), removed (321, 322), kicked (307, 332), or undefined for its own leave. */
export function removedHow(codes: readonly string[]): RemovedHow | undefined {
  if (codes.includes("301")) return "banned";
  if (codes.includes("321") || codes.includes("322")) return "removed";
  if (codes.includes("307") || codes.includes("332")) return "kicked";
  return undefined;
}

/** Who removed the bot and why, as the room's unavailable presence tells (only the fields present). */
export function removalDetail(stanza: Element): { actor?: string; reason?: string } {
  const item = stanza.getChild("x", NS.mucUser)?.getChild("item");
  const actor = item?.getChild("actor")?.attrs.nick as string | undefined;
  const reason = item?.getChildText("reason") ?? undefined;
  return { ...(actor ? { actor } : {}), ...(reason ? { reason } : {}) };
}
