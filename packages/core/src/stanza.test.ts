// The stanza builders build the same trees as `xml()` would (they skip its per-call attribute rewriting).
import { describe, expect, it } from "vitest";
import { idSource, message, NS, stanzaId, xml, type Element } from "./stanza.ts";

/** What `message()` built before, with `xml()`. */
function viaXml(o: { to?: string; body?: string; type?: string; id: string; children?: Element[] }): Element {
  const children: Element[] = [];
  if (o.body !== undefined) children.push(xml("body", {}, o.body));
  if (o.children) children.push(...o.children);
  children.push(xml("origin-id", { xmlns: NS.sid, id: o.id }));
  return xml("message", { to: o.to, type: o.type ?? "chat", id: o.id }, ...children);
}

describe("stanza ids", () => {
  it("br-, an 8-character random prefix, a base-36 counter: unique within a source and between sources", () => {
    const a = idSource();
    const ids = Array.from({ length: 10_000 }, a);
    expect(new Set(ids).size).toBe(10_000);
    expect(ids[0]).toMatch(/^br-[A-Za-z0-9_-]{8}1$/);
    expect(ids[35]).toBe(`${ids[0]!.slice(0, 11)}10`); // 36 in base 36
    const b = idSource()();
    expect(b.slice(0, 11)).not.toBe(ids[0]!.slice(0, 11)); // 1 in 2^48 to fail
    expect(stanzaId()).not.toBe(stanzaId());
  });

  it("a counter at its last value takes a new prefix instead of wrapping onto ids already used", () => {
    const next = idSource(0xfffffffe);
    const last = next();
    expect(last).toMatch(/^br-[A-Za-z0-9_-]{8}1z141z3$/); // 2^32 - 1 in base 36
    const after = next();
    expect(after.slice(0, 11)).not.toBe(last.slice(0, 11));
    expect(after).toMatch(/^br-[A-Za-z0-9_-]{8}1$/);
  });
});

describe("message()", () => {
  it.each([
    { to: "a@b.test/r", body: "hi <&> 'q'", id: "i1" },
    { to: "a@b.test", body: "", id: "i2" },
    { to: "room@muc.test", type: "groupchat" as const, id: "i3" },
    { to: "a@b.test", body: "x", id: "i4", chatState: true },
  ])("serialises and nests like xml(): %j", ({ chatState, ...o }) => {
    const children = () => (chatState ? [xml("active", { xmlns: NS.chatStates })] : undefined);
    const expected = viaXml({ ...o, children: children() }).toString();
    const built = message({ ...o, children: children() });
    expect(built.toString()).toBe(expected);
    for (const child of built.getChildElements()) expect(child.parent).toBe(built);
    expect(built.getChild("origin-id", NS.sid)?.attrs.id).toBe(o.id);
  });

  it("gives every message an id carried by its origin-id (XEP-0359)", () => {
    const m = message({ to: "a@b.test", body: "x" });
    expect(typeof m.attrs.id).toBe("string");
    expect(m.getChild("origin-id", NS.sid)?.attrs.id).toBe(m.attrs.id);
    expect(message({ to: "a@b.test" }).attrs.id).not.toBe(m.attrs.id);
  });
});
