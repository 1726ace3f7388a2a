/**
 * Room catch-up (XEP-0313 MAM on MUC): no room message missed across downtime. The plugin keeps,
 * per room, the XEP-0359 stanza-id (by = the room) of the last room message handled, in a session
 * StorageAdapter. Each time the bot enters a room (its self-presence, XEP-0045 §7.2.3, after every
 * new session and rejoin) it asks the room's archive for what came after that id (XEP-0313 §4,
 * XEP-0059 `<after>` paging until `<fin complete="true">`, at most `max` messages, none older than
 * `maxAgeMs`) and hands each archived message to the pipeline once, in order, with
 * `ctx.caughtUp === true`. Live messages from that room that arrive meanwhile are held (bounded)
 * and released afterwards in order, skipping those the archive already delivered (same stanza-id).
 * The history a room replays on join (delayed messages) is never handled: the rooms plugin asks
 * for none and drops it, and this plugin drops it too for the rooms it catches up.
 *
 * First join (no cursor stored): nothing is handled; the newest archived id (or, for an empty
 * archive, the time) is stored, so the next start catches up from there.
 * Install it after `rooms` (it then sees messages the rooms plugin kept: no own echoes) and before
 * `commands` and handlers (it holds live room messages before they run).
 */
import { jid, mucStatusCodes, NS, type Context, type Element, type MiddlewareFn, type PluginHost } from "@botrun/core";
import { ArchiveReader } from "./archive.ts";
import { CursorStore, type RoomCursor } from "./cursor.ts";
import { NS_MAM, readResult, roomStanzaId } from "./mam.ts";
import type { CatchUpResult, RoomCatchUp, RoomCatchUpOptions } from "./types.ts";
import { catchUpRoom, type RoomRun } from "./run.ts";

export type { RoomCursor } from "./cursor.ts";
export type { CatchUpResult, RoomCatchUp, RoomCatchUpOptions } from "./types.ts";
export { NS_MAM } from "./mam.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Create the room catch-up plugin: `bot.install(rooms({ join }), roomCatchUp({ storage: fileStorage("./data/catchup") }))`. */
export function roomCatchUp(opts: RoomCatchUpOptions): RoomCatchUp {
  const max = Math.max(1, opts.max ?? 100);
  const limits = {
    max,
    maxAgeMs: Math.max(1, opts.maxAgeMs ?? DAY_MS),
    pageSize: Math.max(1, Math.min(opts.pageSize ?? 50, max)),
    maxHeld: Math.max(1, opts.maxHeld ?? 1000),
    timeoutMs: Math.max(1, opts.timeoutMs ?? 30_000),
  };
  const only = opts.rooms === undefined || opts.rooms === "all" ? undefined : new Set(opts.rooms.map(roomKey));
  let host: PluginHost | undefined;
  const cursors = new CursorStore(opts.storage, opts.prefix ?? "catchup:", () => host?.log);
  const archive = new ArchiveReader();
  /** Per room (lower-cased bare JID): the current catch-up run, while the bot is in the room. */
  const runs = new Map<string, RoomRun>();
  /** Stanza-ids handled per room (bounded, oldest forgotten first): archived copies of live ones and back. */
  const seen = new Map<string, Set<string>>();
  const released = new WeakSet<Element>();
  const tasks = new Set<Promise<void>>();
  const seenCap = limits.max + limits.maxHeld + 100;

  const seenOf = (key: string): Set<string> => {
    let s = seen.get(key);
    if (!s) seen.set(key, (s = new Set()));
    return s;
  };
  const markSeen = (key: string, id: string) => {
    const s = seenOf(key);
    s.add(id);
    if (s.size > seenCap) s.delete(s.values().next().value!);
  };
  const advance = (key: string, cursor: RoomCursor) => cursors.set(key, cursor);

  const start = (room: string, key: string, nick: string | undefined) => {
    const run: RoomRun = { room, key, nick, phase: "catching", held: [], overflowed: false };
    runs.set(key, run);
    const env = {
      host: host!,
      limits,
      archive,
      cursors,
      seen: (id: string) => seenOf(key).has(id),
      markSeen: (id: string) => markSeen(key, id),
      release: (stanza: Element) => released.add(stanza),
      current: () => runs.get(key) === run && !host!.stopping,
    };
    const task = catchUpRoom(run, env)
      .catch((error: unknown): CatchUpResult => {
        host?.log.warn("room catch-up failed", { room, error });
        return { handled: 0, released: 0, ended: "failed" };
      })
      .then((result) => {
        host?.log.info("room caught up", { room, ...result });
        opts.onCaughtUp?.(room, result);
      });
    tasks.add(task);
    void task.finally(() => tasks.delete(task));
  };

  const onPresence = (ctx: Context) => {
    const room = jid.bare(ctx.from);
    const key = roomKey(room);
    if (only && !only.has(key)) return;
    const codes = mucStatusCodes(ctx.stanza);
    if (!codes.includes("110")) return;
    if (ctx.type === "unavailable") {
      if (!codes.includes("303")) runs.delete(key); // left (a nick change, 303, stays in)
    } else if (ctx.type !== "error" && !runs.has(key)) {
      start(room, key, ctx.nick);
    }
  };

  const middleware: MiddlewareFn<Context> = async (ctx, next) => {
    if (ctx.kind === "presence") {
      await next();
      onPresence(ctx);
      return;
    }
    if (ctx.kind !== "message") return next();
    if (ctx.stanza.getChild("result", NS_MAM)) {
      const r = readResult(ctx.stanza);
      if (r && archive.collect(roomKey(ctx.from), r)) return; // one of our pages: handled by the run
      return next();
    }
    if (ctx.type !== "groupchat" || !ctx.room) return next();
    const key = roomKey(ctx.room);
    const run = runs.get(key);
    if (!run || ctx.caughtUp) return next(); // archived ones: the run records them
    if (ctx.delayed) return; // history replayed on join (XEP-0045 §7.2.15): the archive covers it
    if (released.has(ctx.stanza)) released.delete(ctx.stanza);
    else if (run.phase === "catching") {
      if (run.held.length < limits.maxHeld) {
        run.held.push(ctx.stanza);
        return;
      }
      if (!run.overflowed) ctx.log.warn("too many live room messages during catch-up; handling them now, out of order", { room: run.room, maxHeld: limits.maxHeld });
      run.overflowed = true;
    }
    const id = roomStanzaId(ctx.stanza, ctx.room);
    if (id !== undefined && seenOf(key).has(id)) return; // already handled from the archive
    try {
      await next();
    } finally {
      if (id !== undefined) {
        markSeen(key, id);
        advance(key, { id, at: Date.now() });
      }
    }
  };

  return {
    name: "room-catch-up",
    middleware,
    start(h) {
      host = h;
    },
    online(h) {
      host = h;
    },
    // A join presence going out (XEP-0045 §7.2.1: <x xmlns=muc>; the rooms plugin sends one per room
    // on every new session and rejoin) ends the room's run: its next self-presence starts a new one.
    transformSend(stanza, next) {
      if (stanza.name === "presence" && stanza.attrs.type === undefined && stanza.getChild("x", NS.muc)) runs.delete(roomKey(String(stanza.attrs.to ?? "")));
      return next(stanza);
    },
    async stop() {
      await Promise.allSettled([...tasks]);
      await cursors.flush();
    },
    async idle() {
      while (tasks.size > 0) await Promise.allSettled([...tasks]);
    },
  };
}

/** Rooms are keyed by their bare JID, lower-cased (JIDs compare case-insensitively in the local part, RFC 7622 §3.3). */
function roomKey(room: string): string {
  return jid.bare(room).toLowerCase();
}
