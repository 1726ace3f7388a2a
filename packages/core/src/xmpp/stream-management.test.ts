// XEP-0198 as botrun's own plugin: written stanzas wait in the ledger until `<a h/>`, and a lost
// session gives the unacknowledged ones back to the outbox (never a call the other way): after a
// stream that cannot be resumed, after `<failed/>` to `<resume/>` (minus what its `h` covers), and
// after `<resumed h/>` (the rest, first, with `<delay/>`; our own presence written again directly).
import { EventEmitter } from "node:events";
import { describe, expect, it, vi } from "vitest";
import xml, { type Element } from "@xmpp/xml";
import { markInternal } from "./internal-stanzas.ts";
import { ANSWER_ACK_AFTER, ANSWER_ACK_MS, StreamManagement, NS_SM, type SmEntity } from "./stream-management.ts";

const NS_STREAMS = "http://etherx.jabber.org/streams";
const msg = (id: string) => xml("message", { to: "peer@localhost", id }, xml("body", {}, id));

/** A fake entity: `send` records and reports the write like xmpp.js ("send" after the write). */
function setup(o: { ackTimeoutMs?: number; readPaused?: () => boolean } = {}) {
  const ee = new EventEmitter();
  const written: Element[] = [];
  const returned: string[][] = [];
  const dead: string[] = [];
  let ready: boolean | undefined;
  let feature: ((ctx: unknown, next: () => Promise<unknown>) => unknown) | undefined;
  let closeHook: (() => Promise<void>) | undefined;
  const entity = Object.assign(ee, {
    jid: { toString: () => "bot@localhost/r" },
    send: async (el: Element) => {
      written.push(el);
      ee.emit("send", el);
    },
    _ready: (resumed: boolean) => void (ready = resumed),
    hook: (_event: "close", fn: () => Promise<void>) => void (closeHook = fn),
  });
  const sm = new StreamManagement({
    entity: entity as unknown as SmEntity,
    streamFeatures: { use: (_n, _ns, fn) => void (feature = fn) },
    returns: { takeBack: (els) => void returned.push(els.map((e) => String(e.attrs.id))) },
    ackTimeoutMs: o.ackTimeoutMs ?? 0,
    readPaused: o.readPaused,
    onDead: (r) => void dead.push(r),
  });
  const inbound = (el: Element) => ee.emit("element", el);
  /** Run the stream feature (as xmpp.js does for features offering XEP-0198); resolves once it returns. */
  const negotiate = async () => {
    let bound = false;
    const done = feature!({}, async () => void (bound = true));
    return { done, bound: () => bound };
  };
  /** A new session: the feature runs, binding happens, <enable/> is written and answered with <enabled/>. */
  const enable = async (resume = true) => {
    const n = await negotiate();
    await n.done;
    inbound(xml("enabled", { xmlns: NS_SM, ...(resume ? { id: "s1", resume: "true" } : {}) }));
  };
  /** xmpp.js runs its "close" hooks before it writes </stream:stream>. */
  const close = () => closeHook!();
  return { sm, ee, entity, written, returned, dead, inbound, negotiate, enable, close, ready: () => ready };
}

/** A test body run under fake timers (real ones restored after it, pass or fail). */
const fakeTimers = (body: () => Promise<void>) => async () => {
  vi.useFakeTimers();
  try {
    await body();
  } finally {
    vi.useRealTimers();
  }
};

describe("StreamManagement", () => {
  it("acks trim the ledger; a stream that cannot be resumed hands the rest back in order, ours only", async () => {
    const s = setup();
    await s.enable(false);
    for (const id of ["m1", "m2", "m3"]) await s.entity.send(msg(id));
    await s.entity.send(markInternal(xml("iq", { type: "get", id: "ping1" })));
    expect(s.sm.unacked).toBe(4);
    s.inbound(xml("a", { xmlns: NS_SM, h: "1" }));
    expect(s.sm.unacked).toBe(3);
    s.inbound(xml("a", { xmlns: NS_SM, h: "0" })); // behind what we know: ignored, nothing comes back
    expect(s.sm.unacked).toBe(3);
    s.ee.emit("disconnect");
    expect(s.returned).toEqual([["m2", "m3"]]);
    expect(s.sm.unacked).toBe(0);
    // Messages going back carry their first write time (XEP-0203).
    expect(s.written[2]!.getChild("delay", "urn:xmpp:delay")?.attrs.from).toBe("bot@localhost/r");
  });

  it("tells its listeners each acknowledgement (what is still unacked) and the stream's loss: the stop sequence waits on these, not a poll", async () => {
    const s = setup();
    await s.enable();
    const events: string[] = [];
    s.sm.on("acked", ({ unacked }) => void events.push(`acked ${unacked}`));
    s.sm.on("lost", () => void events.push("lost"));
    for (const id of ["m1", "m2"]) await s.entity.send(msg(id));
    s.inbound(xml("a", { xmlns: NS_SM, h: "1" }));
    s.inbound(xml("a", { xmlns: NS_SM, h: "2" }));
    s.ee.emit("disconnect");
    expect(events).toEqual(["acked 1", "acked 0", "lost"]);
    await s.entity.send(msg("m3")); // written while offline: not counted
    const n = await s.negotiate();
    s.inbound(xml("resumed", { xmlns: NS_SM, h: "2", previd: "s1" }));
    await n.done;
    expect(events).toEqual(["acked 1", "acked 0", "lost", "acked 0"]);
  });

  it("a resumable session keeps its stanzas over a disconnect; <resumed h/> gives back only what the server lacks", async () => {
    const s = setup();
    await s.enable();
    await s.entity.send(markInternal(xml("presence", { id: "p1" })));
    for (const id of ["m1", "m2", "m3"]) await s.entity.send(msg(id));
    s.ee.emit("disconnect");
    expect(s.returned).toEqual([]); // still the server's to confirm
    const resumed: unknown[] = [];
    s.sm.on("resumed", () => void resumed.push(1));
    const n = await s.negotiate();
    expect(s.written.at(-1)!.is("resume", NS_SM)).toBe(true);
    expect(s.written.at(-1)!.attrs.previd).toBe("s1");
    const before = s.written.length;
    s.inbound(xml("resumed", { xmlns: NS_SM, h: "2", previd: "s1" })); // p1 and m1 arrived
    await n.done;
    expect(n.bound()).toBe(false); // a resumption replaces binding
    expect(s.returned).toEqual([["m2", "m3"]]);
    expect(s.written.slice(before)).toEqual([]); // p1 was acknowledged: nothing written again directly
    expect(s.ready()).toBe(true);
    expect(resumed).toHaveLength(1);
    expect(s.sm.enabled).toBe(true);
  });

  it("<failed h/> to <resume/>: what h covers is dropped, the rest goes back, then binding and a new <enable/>", async () => {
    const s = setup();
    await s.enable();
    for (const id of ["m1", "m2", "m3"]) await s.entity.send(msg(id));
    s.ee.emit("disconnect");
    const n = await s.negotiate();
    s.inbound(xml("failed", { xmlns: NS_SM, h: "1" }, xml("item-not-found", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" })));
    await n.done;
    expect(s.returned).toEqual([["m2", "m3"]]);
    expect(n.bound()).toBe(true);
    expect(s.written.at(-1)!.is("enable", NS_SM)).toBe(true);
    expect(s.sm.id).toBe("");
  });

  it("our unacknowledged presence is written again on resumption (the server must have it)", async () => {
    const s = setup();
    await s.enable();
    await s.entity.send(markInternal(xml("presence", { id: "p1" })));
    s.ee.emit("disconnect");
    const n = await s.negotiate();
    const before = s.written.length;
    s.inbound(xml("resumed", { xmlns: NS_SM, h: "0", previd: "s1" }));
    await n.done;
    expect(s.written.slice(before).map((e) => e.attrs.id)).toEqual(["p1"]);
    expect(s.returned).toEqual([]);
  });

  it("features without XEP-0198 after authentication: the old session cannot be resumed, its stanzas go back", async () => {
    const s = setup();
    await s.enable();
    await s.entity.send(msg("m1"));
    s.ee.emit("disconnect");
    s.inbound(xml("stream:features", { "xmlns:stream": NS_STREAMS }, xml("bind", { xmlns: "urn:ietf:params:xml:ns:xmpp-bind" })));
    expect(s.returned).toEqual([["m1"]]);
  });

  it("<r/> is answered within ANSWER_ACK_MS by one <a/> for all handled meanwhile, at once past ANSWER_ACK_AFTER; a frozen counter no longer acknowledges", fakeTimers(async () => {
    const s = setup();
    await s.enable();
    const acks = () => s.written.filter((el) => el.name === "a").map((el) => el.attrs.h);
    s.inbound(xml("message", { id: "in1" }));
    s.inbound(xml("r", { xmlns: NS_SM }));
    s.inbound(xml("message", { id: "in2" }));
    expect(acks()).toEqual([]);
    vi.advanceTimersByTime(ANSWER_ACK_MS - 1);
    expect(acks()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(acks()).toEqual(["2"]); // covers what arrived after the request too
    // A second request while an answer is due: the server is waiting, both are answered at once.
    s.inbound(xml("r", { xmlns: NS_SM }));
    s.inbound(xml("r", { xmlns: NS_SM }));
    expect(acks()).toEqual(["2", "2"]);
    vi.advanceTimersByTime(ANSWER_ACK_MS);
    expect(acks()).toEqual(["2", "2"]);
    s.written.length = 0;
    // A request, then ANSWER_ACK_AFTER stanzas: answered at once, without waiting for the timer.
    s.inbound(xml("r", { xmlns: NS_SM }));
    for (let i = 0; i < ANSWER_ACK_AFTER; i++) s.inbound(xml("message", { id: `b${i}` }));
    expect(acks()).toEqual([String(2 + ANSWER_ACK_AFTER)]);
    vi.advanceTimersByTime(ANSWER_ACK_MS);
    expect(acks()).toHaveLength(1); // the timer went with the answer
    // A request when that many are already unanswered: at once.
    for (let i = 0; i < ANSWER_ACK_AFTER; i++) s.inbound(xml("message", { id: `c${i}` }));
    s.inbound(xml("r", { xmlns: NS_SM }));
    expect(acks().at(-1)).toBe(String(2 + 2 * ANSWER_ACK_AFTER));
    s.sm.freezeInbound();
    s.inbound(xml("message", { id: "in3" }));
    s.inbound(xml("r", { xmlns: NS_SM }));
    vi.advanceTimersByTime(ANSWER_ACK_MS);
    expect(acks().at(-1)).toBe(String(2 + 2 * ANSWER_ACK_AFTER));
    expect(acks()).toHaveLength(3);
  }));

  it("closing the stream: the last <a/> covers what an answer was due for, and the due answer is dropped", fakeTimers(async () => {
    const s = setup();
    await s.enable();
    s.inbound(xml("message", { id: "in1" }));
    s.inbound(xml("r", { xmlns: NS_SM }));
    s.inbound(xml("message", { id: "in2" }));
    await s.close();
    const acks = () => s.written.filter((el) => el.name === "a").map((el) => el.attrs.h);
    expect(acks()).toEqual(["2"]);
    vi.advanceTimersByTime(ANSWER_ACK_MS);
    expect(acks()).toEqual(["2"]);
  }));

  it("a lost stream drops the answer that was due (the next stream counts anew)", fakeTimers(async () => {
    const s = setup();
    await s.enable(false);
    s.inbound(xml("message", { id: "in1" }));
    s.inbound(xml("r", { xmlns: NS_SM }));
    s.ee.emit("disconnect");
    vi.advanceTimersByTime(ANSWER_ACK_MS);
    expect(s.written.filter((el) => el.name === "a")).toEqual([]);
  }));

  it("no <a/> within the ack timeout after our <r/>: the link is dead, unless reading is paused", fakeTimers(async () => {
    let paused = true;
    const s = setup({ ackTimeoutMs: 30, readPaused: () => paused });
    await s.enable();
    s.sm.requestAck();
    vi.advanceTimersByTime(100);
    expect(s.dead).toEqual([]); // not reading: the ack cannot arrive yet
    paused = false;
    vi.advanceTimersByTime(30);
    expect(s.dead).toEqual(["no XEP-0198 ack within 30 ms"]);
    // Any inbound element clears it.
    s.dead.length = 0;
    s.sm.requestAck();
    s.inbound(xml("a", { xmlns: NS_SM, h: "0" }));
    vi.advanceTimersByTime(100);
    expect(s.dead).toEqual([]);
  }));
});
