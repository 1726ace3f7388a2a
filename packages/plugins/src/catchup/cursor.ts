/** Room catch-up cursors: the last room message handled, per room, kept in a session StorageAdapter. */
import type { Logger } from "@botrun/core";
import type { StorageAdapter } from "../session/storage.ts";

/**
 * Where the bot is in a room's archive: the XEP-0359 stanza-id of the last message it handled
 * (`id`), and when (`at`, ms since epoch). With no `id` (the archive was empty when the room was
 * first joined) catch-up starts at `at`.
 */
export interface RoomCursor {
  id?: string;
  at: number;
}

/**
 * Cursors in memory, written behind to storage: one write in flight per room, later advances
 * coalesced into the next write (so a burst costs two writes, not one per message). `flush()`
 * waits for the last value of every room to be stored.
 */
export class CursorStore {
  readonly #storage: StorageAdapter<RoomCursor>;
  readonly #prefix: string;
  readonly #log: () => Logger | undefined;
  readonly #latest = new Map<string, RoomCursor>();
  readonly #dirty = new Set<string>();
  readonly #writing = new Map<string, Promise<void>>();

  constructor(storage: StorageAdapter<RoomCursor>, prefix: string, log: () => Logger | undefined) {
    this.#storage = storage;
    this.#prefix = prefix;
    this.#log = log;
  }

  /** The room's cursor: this process's latest, else the stored one (undefined when none or unreadable). */
  async get(room: string): Promise<RoomCursor | undefined> {
    const mem = this.#latest.get(room);
    if (mem) return mem;
    try {
      const v = await this.#storage.read(this.#prefix + room);
      return isCursor(v) ? v : undefined;
    } catch (error) {
      this.#log()?.warn("catch-up cursor could not be read; no catch-up for this room now", { room, error });
      return undefined;
    }
  }

  /** Advance the room's cursor (stored soon; see `flush`). */
  set(room: string, cursor: RoomCursor): void {
    this.#latest.set(room, cursor);
    this.#dirty.add(room);
    if (!this.#writing.has(room)) this.#writeLoop(room);
  }

  #writeLoop(room: string): void {
    const run = async () => {
      while (this.#dirty.delete(room)) {
        const value = this.#latest.get(room)!;
        try {
          await this.#storage.write(this.#prefix + room, value);
        } catch (error) {
          this.#log()?.warn("catch-up cursor not stored (a restart may handle some room messages again)", { room, error });
        }
      }
    };
    const p = run().finally(() => {
      this.#writing.delete(room);
      if (this.#dirty.has(room)) this.#writeLoop(room); // advanced after the loop's last check
    });
    this.#writing.set(room, p);
  }

  /** Resolves once every cursor set so far is stored (or its write failed, logged). */
  async flush(): Promise<void> {
    while (this.#writing.size > 0) await Promise.all([...this.#writing.values()]);
  }
}

function isCursor(v: unknown): v is RoomCursor {
  if (typeof v !== "object" || v === null) return false;
  const c = v as Record<string, unknown>;
  return typeof c.at === "number" && Number.isFinite(c.at) && (c.id === undefined || (typeof c.id === "string" && c.id !== ""));
}
