// The redelivery filter: a true redelivery (same sender, id and body, delayed; or a seen XEP-0359
// stanza-id of our server) is dropped once; a new message reusing an old id is handled.
import { describe, expect, it } from "vitest";
import xml from "@xmpp/xml";
import { createConsoleLogger } from "../logger.ts";
import { transportOnFakeServer, until } from "../../test-support/fake-server.ts";
import { RedeliveryFilter } from "./redelivery.ts";

const me = "bot@localhost";
const chat = (id: string, body: string, opts: { delayed?: boolean; stamp?: string; sid?: string; by?: string; from?: string } = {}) =>
  xml(
    "message",
    { from: opts.from ?? "alice@localhost/phone", to: `${me}/r1`, type: "chat", id },
    xml("body", {}, body),
    ...(opts.delayed ? [xml("delay", { xmlns: "urn:xmpp:delay", stamp: opts.stamp ?? "2026-01-01T00:00:00Z" })] : []),
    ...(opts.sid ? [xml("stanza-id", { xmlns: "urn:xmpp:sid:0", by: opts.by ?? me, id: opts.sid })] : []),
  );

describe("RedeliveryFilter", () => {
  it("same id, different body: handled; true redelivery: dropped once", () => {
    const f = new RedeliveryFilter();
    expect(f.check(chat("1", "hello"), me)).toBeUndefined();
    // A client restarted its id counter: same id, new text (delayed, from offline storage): handled.
    expect(f.check(chat("1", "a new message", { delayed: true }), me)).toBeUndefined();
    // The server hands the first one over again: dropped.
    expect(f.check(chat("1", "hello", { delayed: true, from: "alice@localhost/laptop" }), me)).toBe("same id and body");
    // Same id and body again without <delay/> (the sender sent it again, live): handled.
    expect(f.check(chat("1", "hello"), me)).toBeUndefined();
    // Another sender with the same id and body: handled.
    expect(f.check(chat("1", "hello", { delayed: true, from: "bob@localhost/x" }), me)).toBeUndefined();
  });

  it("a XEP-0359 stanza-id stamped by our own server identifies the redelivery; one by someone else does not count", () => {
    const f = new RedeliveryFilter();
    expect(f.check(chat("a", "x", { sid: "S1" }), me)).toBeUndefined();
    expect(f.check(chat("b", "other id, same stanza", { sid: "S1" }), me)).toBe("stanza-id");
    expect(f.check(chat("c", "y", { sid: "S2", by: "evil@example.org" }), me)).toBeUndefined();
    expect(f.check(chat("d", "y", { sid: "S2", by: "evil@example.org" }), me)).toBeUndefined();
  });

  it("remembers a bounded number of messages", () => {
    const f = new RedeliveryFilter(10);
    expect(f.check(chat("0", "first"), me)).toBeUndefined();
    for (let i = 1; i <= 50; i++) f.check(chat(String(i), "x"), me);
    // Forgotten: handled again rather than held forever.
    expect(f.check(chat("0", "first", { delayed: true }), me)).toBeUndefined();
    expect(f.check(chat("50", "x", { delayed: true }), me)).toBe("same id and body");
  });

  it("two delayed messages with the same id and body but different delay stamps are two messages", () => {
    const f = new RedeliveryFilter();
    expect(f.check(chat("1", "!help", { delayed: true, stamp: "2026-01-01T10:00:00Z" }), me)).toBeUndefined();
    expect(f.check(chat("1", "!help", { delayed: true, stamp: "2026-01-01T10:05:00Z" }), me)).toBeUndefined();
    // Either of them handed over again keeps its stamp: dropped.
    expect(f.check(chat("1", "!help", { delayed: true, stamp: "2026-01-01T10:00:00Z" }), me)).toBe("same id and body");
    // One first received live (no stamp) and stored offline again comes back with a stamp: still a redelivery.
    expect(f.check(chat("2", "live"), me)).toBeUndefined();
    expect(f.check(chat("2", "live", { delayed: true, stamp: "2026-01-01T11:00:00Z" }), me)).toBe("same id and body");
  });
});

/** The filter's rules with exact keys (strings in Sets, two generations): what the fingerprints must agree with. */
class ExactModel {
  #current = new Set<string>();
  #previous = new Set<string>();
  constructor(readonly limit: number) {}
  check(m: { from: string; id?: string; body: string; stamp?: string; sid?: string; by?: string }): string | undefined {
    const sender = m.from.split("/")[0]!;
    const sid = m.sid !== undefined && m.by === me && m.sid ? m.sid : undefined;
    const sidKey = sid === undefined ? undefined : JSON.stringify(["s", sender, sid]);
    const key = (stamp: string) => JSON.stringify(["c", sender, m.id, m.body, stamp]);
    if (sidKey && this.#has(sidKey)) return "stanza-id";
    if (m.id && m.stamp !== undefined && (this.#has(key(m.stamp)) || this.#has(key("")))) return "same id and body";
    if (sidKey) this.#remember(sidKey);
    if (m.id) this.#remember(key(m.stamp ?? ""));
    return undefined;
  }
  #has(k: string) {
    return this.#current.has(k) || this.#previous.has(k);
  }
  #remember(k: string) {
    if (this.#current.has(k)) return;
    this.#current.add(k);
    if (this.#current.size >= this.limit * 2) [this.#previous, this.#current] = [this.#current, new Set()];
  }
}

describe("RedeliveryFilter against exact keys", () => {
  it("gives the exact-key verdict on 3,000 random sequences of look-alike messages (small alphabets, so keys repeat), across generations", () => {
    let seed = 20261201; // mulberry32: the same sequences on every run
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    let checked = 0;
    let drops = 0;
    const wrong: string[] = [];
    for (let run = 0; run < 3000; run++) {
      const limit = pick([1, 2, 3, 5000]);
      const filter = new RedeliveryFilter(limit);
      const model = new ExactModel(limit);
      for (let k = 0; k < 12; k++) {
        const m = {
          from: pick(["a@x/1", "a@x/2", "b@x/1"]),
          id: pick([undefined, "1", "2"]),
          body: pick(["", "hi", "!help"]),
          stamp: pick([undefined, "", "T1", "T2"]),
          sid: pick([undefined, "s1", "s2"]),
          by: pick([me, "evil@x"]),
        };
        const el = xml(
          "message",
          { from: m.from, to: `${me}/r1`, type: "chat", ...(m.id ? { id: m.id } : {}) },
          ...(m.body ? [xml("body", {}, m.body)] : []),
          ...(m.stamp !== undefined ? [xml("delay", { xmlns: "urn:xmpp:delay", ...(m.stamp ? { stamp: m.stamp } : {}) })] : []),
          ...(m.sid ? [xml("stanza-id", { xmlns: "urn:xmpp:sid:0", by: m.by, id: m.sid })] : []),
        );
        const want = model.check(m);
        const got = filter.check(el, me);
        if (got !== want && wrong.length < 3) wrong.push(`${JSON.stringify({ run, k, limit, m })}: ${got ?? "handled"} instead of ${want ?? "handled"}`);
        checked++;
        if (want) drops++;
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe(36_000);
    expect(drops).toBeGreaterThan(1000); // the sequences do exercise both kinds of drop
  });
});

describe("redelivery through the transport", () => {
  const offline = (stamp: string) =>
    `<message from='alice@localhost/phone' to='bot@localhost/r1' type='chat' id='1'><body>!help</body><delay xmlns='urn:xmpp:delay' from='localhost' stamp='${stamp}'/></message>`;

  it("a client restarting its ids: two stored `!help` with id 1 and different stamps both reach the bot; a true redelivery is dropped with an info line", async () => {
    const lines: string[] = [];
    const logger = createConsoleLogger({ level: "info", write: (l) => void lines.push(l) });
    const { server, transport } = await transportOnFakeServer({ mechanisms: ["PLAIN"] }, {}, logger);
    const got: string[] = [];
    transport.on("stanza", (el) => void got.push(String(el.getChild("delay", "urn:xmpp:delay")?.attrs.stamp)));
    server.write(1, offline("2026-01-01T10:00:00Z") + offline("2026-01-01T10:05:00Z") + offline("2026-01-01T10:00:00Z"));
    server.write(1, `<message from='alice@localhost/phone' to='bot@localhost/r1' type='chat' id='end'><body>end</body></message>`);
    await until(() => got.length >= 3);
    expect(got).toEqual(["2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z", "undefined"]);
    const drops = lines.filter((l) => /redelivered/.test(l));
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatch(/info/i);
    expect(drops[0]).toContain("same id and body");
  });
});
