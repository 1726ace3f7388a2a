// The --debug stanza trace: the usual indented XML, SASL payloads hidden, any depth without recursion, bounded size.
import { describe, expect, it } from "vitest";
import xml from "@xmpp/xml";
import { formatTrace } from "./debug-trace.ts";

describe("formatTrace", () => {
  it("prints indented, escaped XML", () => {
    const el = xml("message", { to: "a@b" }, xml("body", {}, "1 < 2 & 3"), xml("x", { xmlns: "urn:x" }, xml("y")));
    expect(formatTrace(el)).toBe('<message to="a@b">\n  <body>1 &lt; 2 &amp; 3</body>\n  <x xmlns="urn:x">\n    <y/>\n  </x>\n</message>');
  });

  it("hides SASL payloads but keeps the mechanism", () => {
    const auth = xml("auth", { xmlns: "urn:ietf:params:xml:ns:xmpp-sasl", mechanism: "PLAIN" }, "c2VjcmV0");
    const out = formatTrace(auth);
    expect(out).toContain('mechanism="PLAIN"');
    expect(out).toContain('<hidden xmlns="xmpp.js"/>');
    expect(out).not.toContain("c2VjcmV0");
    expect(formatTrace(xml("success", { xmlns: "urn:ietf:params:xml:ns:xmpp-sasl" }, "dj1zZWNyZXQ="))).not.toContain("dj1zZWNyZXQ=");
  });

  it("formats an element 50,000 levels deep (no recursion) within a bounded size", () => {
    const top = xml("a");
    let e = top;
    for (let i = 0; i < 50_000; i++) e = e.cnode(xml("a"));
    const out = formatTrace(top);
    expect(out.length).toBeLessThan(1.1 * 2 ** 20);
    expect(out).toMatch(/trace cut/);
  });
});
