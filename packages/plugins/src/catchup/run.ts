/** One room's catch-up: read its archive after the cursor, hand each message on once, then release the held live ones. */
import { jid, StanzaError, type Element, type PluginHost } from "@botrun/core";
import type { ArchivePage, ArchiveReader } from "./archive.ts";
import type { CursorStore, RoomCursor } from "./cursor.ts";
import type { MamQuery } from "./mam.ts";
import type { CatchUpResult } from "./types.ts";

/** The state of one room while the bot is in it. */
export interface RoomRun {
  room: string;
  key: string;
  /** The bot's nick in the room (from its self-presence): archived messages from it are its own, skipped. */
  nick: string | undefined;
  /** `catching`: live messages are held; `live`: they pass. */
  phase: "catching" | "live";
  held: Element[];
  overflowed: boolean;
}

/** What a run needs from the plugin. */
export interface RunEnv {
  host: PluginHost;
  limits: { max: number; maxAgeMs: number; pageSize: number; timeoutMs: number };
  archive: ArchiveReader;
  cursors: CursorStore;
  seen(id: string): boolean;
  markSeen(id: string): void;
  /** Let this stanza pass the held-messages check when it is dispatched again. */
  release(stanza: Element): void;
  /** False once the bot stopped, reconnected, or left the room. */
  current(): boolean;
}

/** Catch up one room; always ends by releasing the live messages held meanwhile. */
export async function catchUpRoom(run: RoomRun, env: RunEnv): Promise<CatchUpResult> {
  const count = { handled: 0 };
  let ended: CatchUpResult["ended"] = "failed";
  let released = 0;
  try {
    ended = await readArchive(run, env, count);
  } finally {
    // Keep the order: messages arriving while the held ones are released are held too.
    while (run.held.length > 0) {
      const stanza = run.held.shift()!;
      env.release(stanza);
      await env.host.dispatch(stanza);
      released++;
    }
    run.phase = "live";
  }
  return { handled: count.handled, released, ended };
}

async function readArchive(run: RoomRun, env: RunEnv, count: { handled: number }): Promise<CatchUpResult["ended"]> {
  const { host, limits } = env;
  const now = Date.now();
  const floor = now - limits.maxAgeMs;
  const cursor = await env.cursors.get(run.key);
  if (!env.current()) return "stopped";
  const page = (q: Omit<MamQuery, "queryid">): Promise<ArchivePage> => env.archive.page(host, run.room, run.key, q, limits.timeoutMs);
  try {
    if (!cursor) {
      // First join: remember where the archive ends (XEP-0059 §2.5: an empty <before/> asks for the last page).
      const last = await page({ before: "", max: 1 });
      const newest = last.items.at(-1);
      if (env.current()) env.cursors.set(run.key, newest ? { id: newest.id, at: newest.stamp?.getTime() ?? now } : { at: now });
      return "first-join";
    }
    let after = cursor.id;
    let start = new Date(cursor.id === undefined ? Math.max(cursor.at, floor) : floor);
    for (;;) {
      if (!env.current()) return "stopped";
      let p: ArchivePage;
      try {
        p = await page({ after, start, max: Math.min(limits.pageSize, limits.max - count.handled) });
      } catch (error) {
        // The cursor's message is gone from the archive (expired): go by its time instead.
        if (!(error instanceof StanzaError && error.condition === "item-not-found" && after !== undefined)) throw error;
        host.log.warn("catch-up cursor not in the room's archive; catching up by time", { room: run.room });
        after = undefined;
        start = new Date(Math.max(cursor.at, floor));
        continue;
      }
      for (const item of p.items) {
        after = item.id;
        if (count.handled >= limits.max || !env.current()) break;
        const own = run.nick !== undefined && jid.resource(String(item.message.attrs.from)) === run.nick;
        if (own || env.seen(item.id) || (item.stamp && item.stamp.getTime() < floor)) {
          env.cursors.set(run.key, advanceTo(item.id, item.stamp, now));
          continue;
        }
        env.markSeen(item.id);
        count.handled++;
        await host.dispatch(item.message, { caughtUp: true });
        env.cursors.set(run.key, advanceTo(item.id, item.stamp, now));
      }
      if (!env.current()) return "stopped";
      if (p.complete || p.items.length === 0) return "complete";
      if (count.handled >= limits.max) {
        host.log.warn("room catch-up stopped at max; later archived messages are not handled", { room: run.room, max: limits.max, ...(p.count === undefined ? {} : { archived: p.count }) });
        return "max";
      }
      after = p.last ?? after;
    }
  } catch (error) {
    if (error instanceof StanzaError && ["feature-not-implemented", "service-unavailable", "forbidden", "not-allowed"].includes(error.condition)) {
      host.log.info("room has no archive for us; no catch-up", { room: run.room, condition: error.condition });
      return "no-archive";
    }
    if (!env.current()) return "stopped";
    host.log.warn("room catch-up query failed; going on live", { room: run.room, error });
    return "failed";
  }
}

function advanceTo(id: string, stamp: Date | undefined, now: number): RoomCursor {
  return { id, at: stamp?.getTime() ?? now };
}
