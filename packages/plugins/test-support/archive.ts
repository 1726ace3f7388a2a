// Test-only: a room archive answering XEP-0313 queries for the test kit (results pushed, then the fin).
import { NS, StanzaError, xml, type Element } from "@botrun/core";
import type { Harness } from "@botrun/core/testing";
import { NS_FORWARD, NS_MAM, NS_RSM } from "../src/catchup/mam.ts";

/** One archived room message. */
export interface Archived {
  id: string;
  nick: string;
  text: string;
  stamp: Date;
}

/** A room's archive, and the queries the bot sent it. */
export class FakeArchive {
  readonly items: Archived[] = [];
  readonly queries: Element[] = [];
  /** Ignore the `start` filter (as a careless server might): the bot must filter by age itself. */
  ignoreStart = false;
  /** Answer with this error instead. */
  refuse: StanzaError | undefined;
  harness: Harness | undefined;
  #n = 0;

  constructor(readonly room: string) {}

  /** Archive a message (as the room would when it broadcasts one). */
  add(nick: string, text: string, stamp = new Date()): Archived {
    const a = { id: `sid-${++this.#n}`, nick, text, stamp };
    this.items.push(a);
    return a;
  }

  /** The live copy of an archived message, with the room's XEP-0359 stanza-id. */
  stanzaIdOf(a: Archived): Element {
    return xml("stanza-id", { xmlns: NS.sid, by: this.room, id: a.id });
  }

  /** An `IqResponder` for `createHarness` (set `harness` once created). */
  readonly respond = (iq: Element): Element | null | StanzaError | undefined => {
    const q = iq.getChild("query", NS_MAM);
    if (!q) return iq.getChild("query", NS.roster) ? xml("query", { xmlns: NS.roster }) : null;
    if (iq.attrs.to !== this.room) return new StanzaError("item-not-found");
    this.queries.push(iq);
    if (this.refuse) return this.refuse;
    const set = q.getChild("set", NS_RSM);
    const max = Number(set?.getChildText("max") ?? 1000);
    const after = set?.getChildText("after") ?? undefined;
    const before = set?.getChild("before");
    const startText = q.getChild("x", "jabber:x:data")?.getChildren("field").find((f) => f.attrs.var === "start")?.getChildText("value");
    let list = this.items.filter((a) => this.ignoreStart || !startText || a.stamp.getTime() >= new Date(startText).getTime());
    if (after !== undefined) {
      const i = list.findIndex((a) => a.id === after);
      if (i === -1 && !this.items.some((a) => a.id === after)) return new StanzaError("item-not-found");
      list = i === -1 ? [] : list.slice(i + 1);
    }
    const page = before ? list.slice(-max) : list.slice(0, max);
    const complete = before ? page.length === list.length : page.length === list.length;
    for (const a of page) {
      this.harness!.transport.receive(
        xml(
          "message",
          { from: this.room, to: "bot@botrun.test/test" },
          xml(
            "result",
            { xmlns: NS_MAM, queryid: String(q.attrs.queryid), id: a.id },
            xml(
              "forwarded",
              { xmlns: NS_FORWARD },
              xml("delay", { xmlns: NS.delay, stamp: a.stamp.toISOString() }),
              xml("message", { from: `${this.room}/${a.nick}`, type: "groupchat", id: `m-${a.id}` }, xml("body", {}, a.text)),
            ),
          ),
        ),
      );
    }
    const rsm = xml("set", { xmlns: NS_RSM }, xml("count", {}, String(list.length)));
    if (page.length) rsm.append(xml("first", {}, page[0]!.id), xml("last", {}, page.at(-1)!.id));
    return xml("fin", { xmlns: NS_MAM, ...(complete ? { complete: "true" } : {}) }, rsm);
  };
}
