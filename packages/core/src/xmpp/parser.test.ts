// WireParser and the client's handling of what it rejects: errors are events with the RFC 6120
// condition (never a throw), the stream error sent is the specific one, nesting is bounded (deep
// stanzas dropped, iq get/set answered), whitespace between stanzas is not kept.
import { describe, expect, it } from "vitest";
import type { Element } from "@xmpp/xml";
import { MAX_STANZA_CHARS, MAX_STANZA_DEPTH, WireParser, WireXmlError, isTruncated } from "./parser.ts";
import type { DroppedElement } from "./client.ts";
import { wiredClient } from "../../test-support/wired-client.ts";

const HEADER = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

function parse(...chunks: string[]) {
  const p = new WireParser();
  const elements: Element[] = [];
  const errors: WireXmlError[] = [];
  p.on("element", (el: Element) => void elements.push(el));
  p.on("error", (e: WireXmlError) => void errors.push(e));
  for (const c of chunks) expect(() => p.write(c)).not.toThrow();
  return { p, elements, errors };
}

const depthOf = (el: Element): number => {
  let max = 0;
  const stack: [Element, number][] = [[el, 1]];
  while (stack.length) {
    const [e, d] = stack.pop()!;
    max = Math.max(max, d);
    for (const c of e.children) if (typeof c !== "string") stack.push([c, d + 1]);
  }
  return max;
};

describe("WireParser", () => {
  it.each([
    ["an undefined entity in text", "<message><body>&bogus;</body></message>", "restricted-xml"],
    ["an undefined entity in an attribute", "<message to='&bogus;'/>", "restricted-xml"],
    ["a character reference XML forbids", "<message><body>&#0;</body></message>", "not-well-formed"],
    ["a mismatched end tag", "<message><body></message>", "not-well-formed"],
    ["a comment", "<message><!-- hi --><body>x</body></message>", "restricted-xml"],
    ["a processing instruction", "<message><?pi x?></message>", "restricted-xml"],
    ["a DTD", "<!DOCTYPE x [<!ENTITY e 'boom'>]><message>&e;</message>", "restricted-xml"],
  ])("%s: one error event, no throw, later input ignored", (_what, bad, condition) => {
    const { elements, errors } = parse(HEADER, bad, "<message id='later'/>");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(WireXmlError);
    expect(errors[0]!.condition).toBe(condition);
    expect(elements).toEqual([]);
  });

  it("prunes subtrees deeper than MAX_STANZA_DEPTH, marks the stanza and keeps parsing", () => {
    const deep = `<message id='deep'><body>x</body>${"<a>".repeat(30_000)}t${"</a>".repeat(30_000)}</message>`;
    const { elements, errors } = parse(HEADER, deep, "<message id='next'><body>y</body></message>");
    expect(errors).toEqual([]);
    expect(elements.map((e) => e.attrs.id)).toEqual(["deep", "next"]);
    expect(isTruncated(elements[0]!)).toBe(true);
    expect(depthOf(elements[0]!)).toBe(MAX_STANZA_DEPTH);
    expect(() => elements[0]!.toString()).not.toThrow();
    expect(isTruncated(elements[1]!)).toBe(false);
  });

  it("keeps a stanza exactly MAX_STANZA_DEPTH deep whole", () => {
    const n = MAX_STANZA_DEPTH - 1;
    const { elements } = parse(HEADER, `<message>${"<a>".repeat(n)}${"</a>".repeat(n)}</message>`);
    expect(isTruncated(elements[0]!)).toBe(false);
    expect(depthOf(elements[0]!)).toBe(MAX_STANZA_DEPTH);
  });

  it("ends the stream with <policy-violation/> on an element larger than MAX_STANZA_CHARS, not before", () => {
    // Tag-rich 64 KB reads, like a big roster (ltx scans a long text run slowly).
    const chunk = `<i>${"y".repeat(1017)}</i>`.repeat(64);
    const big = Array.from({ length: MAX_STANZA_CHARS / chunk.length }, () => chunk);
    const ok = parse(HEADER, "<message>", ...big.slice(1), "</message>", "<message>", ...big.slice(1), "</message>");
    expect(ok.errors).toEqual([]);
    expect(ok.elements).toHaveLength(2);
    const { errors } = parse(HEADER, "<message>", ...big, "z");
    expect(errors.map((e) => e.condition)).toEqual(["policy-violation"]);
    // A start tag that never ends (attributes without end) is bounded the same way.
    const attrs = ` a='${"v".repeat(1020)}'`.repeat(64);
    const endless = parse(HEADER, "<message", ...Array.from({ length: MAX_STANZA_CHARS / attrs.length + 1 }, () => attrs));
    expect(endless.errors.map((e) => e.condition)).toEqual(["policy-violation"]);
  });

  it("a listener that throws ends the stream with internal-server-error, not as bad input and not out of write()", () => {
    const p = new WireParser();
    const errors: WireXmlError[] = [];
    p.on("error", (e: WireXmlError) => void errors.push(e));
    p.on("element", () => {
      throw new RangeError("Maximum call stack size exceeded");
    });
    expect(() => p.write(`${HEADER}<message/><message/>`)).not.toThrow();
    expect(errors.map((e) => e.message)).toEqual(["internal-server-error: a listener threw: Maximum call stack size exceeded"]);
  });

  it("finds restricted XML split across writes, and accepts it inside CDATA", () => {
    expect(parse(HEADER, "<message><", "!", "-", "- x --></message>").errors.map((e) => e.condition)).toEqual(["restricted-xml"]);
    // (ltx drops text that follows a CDATA section in the same element: none here.)
    const ok = parse(HEADER, "<message><body><", "![CD", "ATA[a <!-- b --> <?c?> ]", "]></body></message>");
    expect(ok.errors).toEqual([]);
    expect(ok.elements[0]?.getChildText("body")).toBe("a <!-- b --> <?c?> ");
  });

  it("gives ltx a long text run at once, with its closing markup (ltx's scan is quadratic per write)", () => {
    const p = new WireParser();
    const ltxWrites: string[] = [];
    const ltx = p.parser as unknown as { write(s: string): void };
    const write = ltx.write.bind(ltx);
    ltx.write = (s: string) => (ltxWrites.push(s), write(s));
    const elements: Element[] = [];
    p.on("element", (el: Element) => void elements.push(el));
    const text = "y".repeat(16 * 1024);
    p.write(HEADER + "<message><body>");
    for (let i = 0; i < 64; i++) p.write(text);
    p.write("</body></message>");
    expect(ltxWrites).toHaveLength(2);
    expect(elements[0]?.getChildText("body")).toBe(text.repeat(64));
  });

  it("reads an XML declaration split across writes", () => {
    const { elements, errors } = parse(..."<?xml version='1.0'?>".split(""), HEADER, "<presence/>");
    expect(errors).toEqual([]);
    expect(elements.map((e) => e.name)).toEqual(["presence"]);
  });

  it("does not keep whitespace between stanzas on the stream root", () => {
    const { p, elements } = parse(HEADER, ...Array.from({ length: 1000 }, () => " \n "), "<presence/>");
    expect(elements).toHaveLength(1);
    expect(p.root?.children).toEqual([]);
  });
});

describe("the client on a hostile stream", () => {
  function wired() {
    const dropped: DroppedElement[] = [];
    const c = wiredClient({ onDropped: (d) => void dropped.push(d) });
    const feed = c.attach();
    return { ...c, feed, dropped };
  }

  it("answers a parse error with the specific stream error and survives data after it", async () => {
    const c = wired();
    c.feed(HEADER);
    expect(() => c.feed("<message><body>&bogus;</body></message>")).not.toThrow();
    expect(() => c.feed("<message><body>after</body></message>")).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(c.written.join("")).toMatch(/<stream:error><restricted-xml xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/><\/stream:error>/);
    expect(c.errors.map((e) => e.message)).toEqual(["restricted-xml: Illegal XML entity &bogus;"]);
  });

  it("drops a too-deep stanza once, answers a too-deep iq get with <policy-violation/>", async () => {
    const c = wired();
    c.feed(HEADER);
    const nest = (n: number) => "<a>".repeat(n) + "</a>".repeat(n);
    c.feed(`<iq type='get' id='q1' from='eve@localhost/x'><query xmlns='urn:x'>${nest(500)}</query></iq>`);
    c.feed(`<message from='eve@localhost/x' id='m1'><body>x</body>${nest(500)}</message>`);
    await new Promise((r) => setImmediate(r));
    expect(c.dropped.map((d) => [d.name, d.id])).toEqual([["iq", "q1"], ["message", "m1"]]);
    expect(c.written.join("")).toMatch(/<iq type="error" id="q1" to="eve@localhost\/x"><error type="modify"><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/><\/error><\/iq>/);
    expect(c.errors).toEqual([]);
  });
});
