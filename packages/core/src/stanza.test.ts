// The stanza builders build the same trees as `xml()` would (they skip its per-call attribute rewriting).
import { describe, expect, it } from "vitest";
import { message, NS, xml, type Element } from "./stanza.ts";

/** What `message()` built before, with `xml()`. */
function viaXml(o: { to?: string; body?: string; type?: string; id: string; children?: Element[] }): Element {
  const children: Element[] = [];
  if (o.body !== undefined) children.push(xml("body", {}, o.body));
  if (o.children) children.push(...o.children);
  children.push(xml("origin-id", { xmlns: NS.sid, id: o.id }));
  return xml("message", { to: o.to, type: o.type ?? "chat", id: o.id }, ...children);
}

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
