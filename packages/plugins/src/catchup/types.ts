/** The public types of room catch-up: its options and its API. */
import type { Plugin } from "@botrun/core";
import type { StorageAdapter } from "../session/storage.ts";
import type { RoomCursor } from "./cursor.ts";

/** Options of `roomCatchUp()`. */
export interface RoomCatchUpOptions {
  /** Rooms to catch up (bare JIDs); default `"all"`: every room the bot joins (through the rooms plugin or otherwise). */
  rooms?: readonly string[] | "all";
  /** Where the per-room cursors live (`memoryStorage()` forgets them on restart: use `fileStorage` or `redisStorage`). */
  storage: StorageAdapter<RoomCursor>;
  /** Storage key prefix (default `catchup:`); the key is the prefix and the room's bare JID, lower-cased. */
  prefix?: string;
  /** At most this many archived messages handled per room per catch-up (default 100); the oldest first. */
  max?: number;
  /** Archived messages older than this are not handled (default 24 h). */
  maxAgeMs?: number;
  /** Messages asked for per archive page (default 50, at most `max`). */
  pageSize?: number;
  /** Live messages held per room while its catch-up runs (default 1000); beyond it they are handled at once (logged). */
  maxHeld?: number;
  /** Timeout of each archive query (default 30 s). */
  timeoutMs?: number;
  /** Called when a room's catch-up ended: how many archived messages were handled, and why it ended. */
  onCaughtUp?: (room: string, result: CatchUpResult) => void;
}

/** How a room's catch-up went. */
export interface CatchUpResult {
  /** Archived messages handed to the pipeline. */
  handled: number;
  /** Live messages that were held during the catch-up, then handled (duplicates of archived ones not counted). */
  released: number;
  /**
   * `complete`: the archive had nothing more; `first-join`: no cursor yet, the archive's end was
   * recorded and nothing handled; `max`: stopped at `max`; `no-archive`: the room refused the
   * query (no XEP-0313); `failed`: the query failed or timed out; `stopped`: the bot stopped or reconnected.
   */
  ended: "complete" | "first-join" | "max" | "no-archive" | "failed" | "stopped";
}

/** The room catch-up plugin. */
export interface RoomCatchUp extends Plugin {
  /** Resolves once no room's catch-up is running. */
  idle(): Promise<void>;
}
