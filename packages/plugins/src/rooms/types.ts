/** The public types of the rooms plugin: its options, the rooms to join, and its API. */
import type { Plugin } from "@botrun/core";
import type { JidPolicy } from "../util/jid-pattern.ts";

/** A room to join. */
export interface RoomConfig {
  room: string;
  nick?: string;
  password?: string;
}

/** Options of `rooms()`. */
export interface RoomsOptions {
  /** Rooms to join on every new session. */
  join?: ReadonlyArray<string | RoomConfig>;
  /** Default nick (default: the bot's name). */
  nick?: string;
  /** Who may invite the bot into rooms (default `deny`). */
  invites?: JidPolicy;
  /**
   * MUC service domains (e.g. `conference.example.org`) whose rooms may send mediated invites,
   * besides the services of configured rooms, of rooms joined through `join()`, and of direct
   * invites verified by disco#info. A direct invite to a room on one of these is joined unchecked.
   */
  services?: readonly string[];
  /** Ask for no history and drop delayed room messages (default true). */
  skipHistory?: boolean;
  /** How many times to add `_` to the nick on a conflict (default 3). */
  maxNickRetries?: number;
  /** Called when a room is joined (`nick` is the nick we got) or a join failed for good. */
  onJoin?: (room: string, nick: string) => void;
  onJoinError?: (room: string, condition: string) => void;
  /**
   * Rejoin after a kick (307) or a service shutdown of the room (332): after `delayMs`
   * (default 5 s), doubling with each kick up to `maxDelayMs` (default 5 min); the delay starts
   * over once the bot stayed in the room for `maxDelayMs`. `false`: stay out. Bans never rejoin.
   */
  rejoinAfterKick?: false | { delayMs?: number; maxDelayMs?: number };
  /** Called when the bot was removed from a room; `kicked` ones are rejoined (see `rejoinAfterKick`). */
  onRemoved?: (room: string, how: RemovedHow, detail: { actor?: string; reason?: string }) => void;
}

/** How the bot left a room against its will. */
export type RemovedHow = "kicked" | "banned" | "removed";

/** The rooms plugin. */
export interface Rooms extends Plugin {
  /** Join a room now (if online) and on every new session. */
  join(room: string, opts?: { nick?: string; password?: string }): Promise<void>;
  /** Leave a room and stop rejoining it. */
  leave(room: string, status?: string): Promise<void>;
  /** Joined rooms and the nick the bot has in each. */
  joined(): Map<string, string>;
  /** Occupants of a joined room: nick → real JID if known. */
  occupants(room: string): Map<string, string | undefined>;
}
