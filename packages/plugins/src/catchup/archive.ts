/**
 * Reading a room's MAM archive one page at a time. The result messages arrive before the query's
 * iq result (XEP-0313 §4.2), but they travel through the pipeline (the room's queue) while the
 * iq result settles the request at once, so a page is complete only when its `<last>` result
 * has been seen by the middleware (`collect`).
 */
import { stanzaId, type PluginHost } from "@botrun/core";
import { mamQuery, readFin, type MamQuery, type MamResult } from "./mam.ts";

interface Pending {
  room: string;
  items: MamResult[];
  ids: Set<string>;
  wanted: string | undefined;
  wake: (() => void) | undefined;
}

/** One page of a room's archive. */
export interface ArchivePage {
  items: MamResult[];
  complete: boolean;
  last: string | undefined;
  count: number | undefined;
}

/** Queries in flight, and the results collected for each. */
export class ArchiveReader {
  readonly #pending = new Map<string, Pending>();

  /** Keep a result of one of our queries; false when the queryid is not ours or the room differs. */
  collect(fromRoom: string, r: MamResult): boolean {
    const p = this.#pending.get(r.queryid);
    if (!p || p.room !== fromRoom) return false;
    if (!p.ids.has(r.id)) {
      p.ids.add(r.id);
      p.items.push(r);
    }
    if (p.wanted !== undefined && r.id === p.wanted) p.wake?.();
    return true;
  }

  /** Ask for one page and wait until its results are in (or `timeoutMs` after the iq result: then what came). */
  async page(host: PluginHost, room: string, roomKey: string, q: Omit<MamQuery, "queryid">, timeoutMs: number): Promise<ArchivePage> {
    const queryid = stanzaId();
    const p: Pending = { room: roomKey, items: [], ids: new Set(), wanted: undefined, wake: undefined };
    this.#pending.set(queryid, p);
    try {
      const res = await host.request(mamQuery(room, { ...q, queryid }), { timeoutMs });
      const fin = readFin(res);
      if (fin.last !== undefined && !p.ids.has(fin.last)) {
        p.wanted = fin.last;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          p.wake = resolve;
          timer = setTimeout(resolve, timeoutMs);
          timer.unref?.();
        });
        clearTimeout(timer);
        if (!p.ids.has(fin.last)) host.log.warn("archive page incomplete: its last result never arrived", { room, got: p.items.length });
      }
      return { items: p.items, complete: fin.complete, last: fin.last, count: fin.count };
    } finally {
      this.#pending.delete(queryid);
    }
  }
}
