// Room catch-up (XEP-0313 on MUC) with the test kit: exactly once, in order, live held, dedupe, join history, bounds.
import { Bot, NS, StanzaError, xml, type Element } from "@botrun/core";
import { createHarness, Harness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import { rateLimit } from "../rate-limit/index.ts";
import { rooms } from "../rooms/index.ts";
import { memoryStorage } from "../session/storage.ts";
import { FakeArchive } from "../../test-support/archive.ts";
import { roomCatchUp, type CatchUpResult, type RoomCatchUpOptions, type RoomCursor } from "./index.ts";

const ROOM = "lobby@conference.botrun.test";

async function setup(o: Partial<RoomCatchUpOptions> & { cursor?: RoomCursor; archive?: FakeArchive } = {}) {
  const archive = o.archive ?? new FakeArchive(ROOM);
  const storage = o.storage ?? memoryStorage<RoomCursor>();
  if (o.cursor) storage.write(`catchup:${ROOM}`, o.cursor);
  const results: CatchUpResult[] = [];
  const catchUp = roomCatchUp({ ...o, storage, onCaughtUp: (_room, r) => results.push(r) });
  const bot = new Bot({ name: "roomie" });
  bot.install(rooms({ join: [ROOM] }), catchUp);
  const seen: string[] = [];
  bot.on("message:groupchat:body", (ctx) => {
    seen.push(`${ctx.caughtUp ? "archived" : "live"} ${ctx.nick}: ${ctx.text}`);
  });
  let t!: Harness;
  // The archive answers from inside the bot's send: it needs the harness, made just below.
  const make = async () => {
    t = new Harness(bot, { iq: archive.respond });
    archive.harness = t;
    await t.runtime.start();
    await t.settle();
    await catchUp.idle();
    await t.settle();
    return t;
  };
  return { archive, storage, catchUp, seen, results, make, get t() { return t; } };
}

const cursorOf = (storage: { read(k: string): unknown }) => storage.read(`catchup:${ROOM}`) as RoomCursor | undefined;

describe("roomCatchUp", () => {
  it("first join: handles nothing old, records where the archive ends", async () => {
    const s = await setupWith((a) => (a.add("ann", "old 1"), a.add("bob", "old 2")));
    await s.make();
    expect(s.seen).toEqual([]);
    expect(cursorOf(s.storage)?.id).toBe("sid-2");
    expect(s.results).toEqual([{ handled: 0, released: 0, ended: "first-join" }]);
    const q = s.archive.queries[0]!;
    expect(q.getChild("query", "urn:xmpp:mam:2")?.getChild("set")?.getChild("before")).toBeDefined();
    await s.t.stop();
  });

  it("handles what came after the cursor once, in order, marked caughtUp; a new session handles none again", async () => {
    const s = await setupWith((a) => (a.add("ann", "seen before"), a.add("ann", "one"), a.add("bob", "two"), a.add("roomie", "the bot's own"), a.add("ann", "three"), a.add("roomie", "own, last")));
    s.storage.write(`catchup:${ROOM}`, { id: "sid-1", at: Date.now() });
    const t = await s.make();
    expect(s.seen).toEqual(["archived ann: one", "archived bob: two", "archived ann: three"]);
    await t.settle();
    expect(cursorOf(s.storage)?.id).toBe("sid-6"); // past its own messages too
    const set = s.archive.queries[0]!.getChild("query", "urn:xmpp:mam:2")!.getChild("set")!;
    expect(set.getChildText("after")).toBe("sid-1");
    await t.reconnect();
    await s.catchUp.idle();
    await t.settle();
    expect(s.seen).toHaveLength(3);
    expect(s.results.map((r) => r.handled)).toEqual([3, 0]);
    await t.stop();
  });

  it("holds live room messages until the catch-up is done, then releases them in order without duplicates", async () => {
    const s = await setupWith((a) => (a.add("ann", "base"), a.add("ann", "missed 1"), a.add("bob", "missed 2")));
    s.storage.write(`catchup:${ROOM}`, { id: "sid-1", at: Date.now() });
    const answer = s.archive.respond;
    let hold: (() => void) | undefined;
    const gate = new Promise<void>((r) => (hold = r));
    let pending: Element | undefined;
    // Keep the archive query unanswered while live messages arrive.
    const archive = s.archive;
    const respond = (iq: Element) => {
      if (!iq.getChild("query", "urn:xmpp:mam:2")) return answer(iq);
      pending = iq;
      hold!();
      return undefined;
    };
    const catchUp = s.catchUp;
    const bot = new Bot({ name: "roomie" });
    bot.install(rooms({ join: [ROOM] }), catchUp);
    bot.on("message:groupchat:body", (ctx) => void s.seen.push(`${ctx.caughtUp ? "archived" : "live"} ${ctx.nick}: ${ctx.text}`));
    const t = await createHarness(bot, { iq: respond });
    archive.harness = t;
    await gate;
    // A live copy of "missed 2" (posted just after the join) and a new one; and the join history.
    await t.groupchat(ROOM, "bob", "missed 2", { children: [archive.stanzaIdOf(archive.items[2]!)] });
    await t.groupchat(ROOM, "cid", "fresh", { children: [xml("stanza-id", { xmlns: NS.sid, by: ROOM, id: "sid-9" })] });
    await t.groupchat(ROOM, "ann", "replayed history", { delayed: true });
    expect(s.seen).toEqual([]);
    const reply = answer(pending!) as Element;
    await t.respond(pending!, reply);
    await catchUp.idle();
    await t.settle();
    expect(s.seen).toEqual(["archived ann: missed 1", "archived bob: missed 2", "live cid: fresh"]);
    expect(s.results.at(-1)).toEqual({ handled: 2, released: 2, ended: "complete" });
    expect(cursorOf(s.storage)?.id).toBe("sid-9");
    await t.groupchat(ROOM, "cid", "later", { children: [xml("stanza-id", { xmlns: NS.sid, by: ROOM, id: "sid-10" })] });
    expect(s.seen.at(-1)).toBe("live cid: later");
    await t.stop();
  });

  it("stopped in the middle of a catch-up, the next start handles only the rest", async () => {
    const archive = new FakeArchive(ROOM);
    for (const m of ["base", "one", "two", "three"]) archive.add("ann", m);
    const storage = memoryStorage<RoomCursor>();
    storage.write(`catchup:${ROOM}`, { id: "sid-1", at: Date.now() });
    const seen: string[] = [];
    const run = async (stopAt?: string) => {
      let caughtUp!: (r: CatchUpResult) => void;
      const ended = new Promise<CatchUpResult>((res) => (caughtUp = res));
      const bot = new Bot({ name: "roomie" });
      bot.install(rooms({ join: [ROOM] }), roomCatchUp({ storage, onCaughtUp: (_room, r) => caughtUp(r) }));
      const t = new Harness(bot, { iq: archive.respond });
      bot.on("message:groupchat:body", (ctx) => {
        seen.push(ctx.text!);
        if (ctx.text === stopAt) void t.stop();
      });
      archive.harness = t;
      await t.runtime.start();
      const r = await ended;
      await t.stop();
      return r;
    };
    expect(await run("two")).toMatchObject({ handled: 2, ended: "stopped" });
    expect(cursorOf(storage)?.id).toBe("sid-3");
    expect(await run()).toMatchObject({ handled: 1, ended: "complete" });
    expect(seen).toEqual(["one", "two", "three"]);
  });

  it("holds at most maxHeld live messages; more are handled at once, none lost", async () => {
    const s = await setupWith((a) => (a.add("ann", "base"), a.add("ann", "missed")), { maxHeld: 1 });
    s.storage.write(`catchup:${ROOM}`, { id: "sid-1", at: Date.now() });
    let pending: Element | undefined;
    const answer = s.archive.respond;
    s.archive.harness = undefined;
    const bot = new Bot({ name: "roomie" });
    bot.install(rooms({ join: [ROOM] }), s.catchUp);
    bot.on("message:groupchat:body", (ctx) => void s.seen.push(`${ctx.caughtUp ? "archived" : "live"} ${ctx.text}`));
    const t = new Harness(bot, { iq: (iq) => (iq.getChild("query", "urn:xmpp:mam:2") ? ((pending = iq), undefined) : answer(iq)) });
    s.archive.harness = t;
    await t.runtime.start();
    await t.settle();
    for (const m of ["l1", "l2", "l3"]) await t.groupchat(ROOM, "bob", m);
    expect(s.seen).toEqual(["live l2", "live l3"]);
    await t.respond(pending!, answer(pending!) as Element);
    await s.catchUp.idle();
    expect(s.seen).toEqual(["live l2", "live l3", "archived missed", "live l1"]);
    await t.stop();
  });

  it("a burst of archived messages from one occupant is not rate-limited as a flood", async () => {
    const archive = new FakeArchive(ROOM);
    archive.add("ann", "base");
    for (let i = 1; i <= 8; i++) archive.add("ann", `m${i}`);
    const storage = memoryStorage<RoomCursor>();
    storage.write(`catchup:${ROOM}`, { id: "sid-1", at: Date.now() });
    const catchUp = roomCatchUp({ storage });
    const bot = new Bot({ name: "roomie" });
    bot.install(rateLimit({ capacity: 2, refillPerSecond: 0.001 }), rooms({ join: [ROOM] }), catchUp);
    const seen: string[] = [];
    bot.on("message:groupchat:body", (ctx) => void seen.push(ctx.text!));
    const t = new Harness(bot, { iq: archive.respond });
    archive.harness = t;
    await t.runtime.start();
    await t.settle();
    await catchUp.idle();
    expect(seen).toHaveLength(8);
    await t.stop();
  });

  it("pages through the archive (RSM after) until complete", async () => {
    const s = await setupWith((a) => {
      a.add("ann", "base");
      for (let i = 1; i <= 5; i++) a.add("ann", `m${i}`);
    }, { pageSize: 2 });
    s.storage.write(`catchup:${ROOM}`, { id: "sid-1", at: Date.now() });
    await s.make();
    expect(s.seen).toEqual(["m1", "m2", "m3", "m4", "m5"].map((m) => `archived ann: ${m}`));
    const afters = s.archive.queries.map((q) => q.getChild("query", "urn:xmpp:mam:2")!.getChild("set")!.getChildText("after"));
    expect(afters).toEqual(["sid-1", "sid-3", "sid-5"]);
    await s.t.stop();
  });

  it("bounded: at most max messages, none older than maxAgeMs (also when the server ignores start)", async () => {
    const old = new Date(Date.now() - 2 * 3600_000);
    const s = await setupWith((a) => {
      a.add("ann", "base", old);
      a.add("ann", "too old", old);
      for (let i = 1; i <= 4; i++) a.add("ann", `m${i}`);
      a.ignoreStart = true;
    }, { max: 3, maxAgeMs: 3600_000 });
    s.storage.write(`catchup:${ROOM}`, { id: "sid-1", at: old.getTime() });
    await s.make();
    expect(s.seen).toEqual(["archived ann: m1", "archived ann: m2", "archived ann: m3"]);
    expect(s.results[0]!.ended).toBe("max");
    const start = s.archive.queries[0]!.getChild("query", "urn:xmpp:mam:2")!.getChild("x")!.getChildren("field").find((f) => f.attrs.var === "start")!.getChildText("value")!;
    expect(Date.now() - new Date(start).getTime()).toBeGreaterThanOrEqual(3600_000);
    await s.t.stop();
  });

  it("a room without an archive: no catch-up, live messages flow", async () => {
    const s = await setupWith((a) => (a.refuse = new StanzaError("feature-not-implemented")));
    s.storage.write(`catchup:${ROOM}`, { id: "sid-1", at: Date.now() });
    const t = await s.make();
    expect(s.results[0]!.ended).toBe("no-archive");
    await t.groupchat(ROOM, "ann", "hello");
    expect(s.seen).toEqual(["live ann: hello"]);
    await t.stop();
  });

  it("ignores MAM results from others and for queries it did not send", async () => {
    const s = await setupWith(() => {});
    const t = await s.make();
    const forged = (from: string, queryid: string) =>
      xml("message", { from, to: "bot@botrun.test/test" }, xml("result", { xmlns: "urn:xmpp:mam:2", queryid, id: "x" }, xml("forwarded", { xmlns: "urn:xmpp:forward:0" }, xml("message", { from: `${ROOM}/eve`, type: "groupchat" }, xml("body", {}, "forged")))));
    await t.push(forged("eve@botrun.test/x", "q"));
    await t.push(forged(ROOM, "not-ours"));
    expect(s.seen).toEqual([]);
    await t.stop();
  });
});

async function setupWith(fill: (a: FakeArchive) => void, o: Partial<RoomCatchUpOptions> = {}) {
  const archive = new FakeArchive(ROOM);
  fill(archive);
  return setup({ ...o, archive });
}
