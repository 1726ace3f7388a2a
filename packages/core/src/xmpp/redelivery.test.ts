// The redelivery filter: a true redelivery (same sender, id and body, delayed; or a seen XEP-0359
// stanza-id of our server) is dropped once; a new message reusing an old id is handled.
import { describe, expect, it } from "vitest";
import xml from "@xmpp/xml";
import { RedeliveryFilter } from "./redelivery.ts";

const me = "bot@localhost";
const chat = (id: string, body: string, opts: { delayed?: boolean; sid?: string; by?: string; from?: string } = {}) =>
  xml(
    "message",
    { from: opts.from ?? "alice@localhost/phone", to: `${me}/r1`, type: "chat", id },
    xml("body", {}, body),
    ...(opts.delayed ? [xml("delay", { xmlns: "urn:xmpp:delay", stamp: "2026-01-01T00:00:00Z" })] : []),
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
});
