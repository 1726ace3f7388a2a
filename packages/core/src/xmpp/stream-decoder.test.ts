// Inbound UTF-8 decoded as a stream: through the assembled client's real data path, every way of
// splitting the bytes (inside every emoji, Cyrillic, CJK and combining-mark character) parses to
// the exact text; the decoder starts afresh with each socket.
import { describe, expect, it } from "vitest";
import type { Element } from "@xmpp/xml";
import { wiredClient as client } from "../../test-support/wired-client.ts";

/** 4-byte emoji (with a skin-tone modifier and a ZWJ sequence), 2-byte Cyrillic, 3-byte CJK, combining marks. */
const TEXT = "Привет, мир! 你好，世界 👋🏽 👩‍👩‍👧 🎉 e\u0301 a\u0308\u0323 ñ 𝄞 ﷽ Ω";
const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
const STANZA = `<message from='alice@localhost/x' type='chat' id='m1' title='${TEXT}'><body>${TEXT}</body></message>`;

describe("inbound decoding", () => {
  const bytes = Buffer.from(HEADER + STANZA, "utf8");
  const check = (el: Element | undefined) => {
    expect(el?.getChildText("body")).toBe(TEXT);
    expect(el?.attrs.title).toBe(TEXT);
  };

  it("one byte per read: every multibyte character split at every inner position", () => {
    const c = client();
    const feed = c.attach();
    for (let i = 0; i < bytes.length; i++) feed(bytes.subarray(i, i + 1));
    expect(c.elements).toHaveLength(1);
    check(c.elements[0]);
  });

  it("two reads, split at every byte offset of the stanza", () => {
    const start = Buffer.byteLength(HEADER);
    for (let cut = start + 1; cut < bytes.length; cut++) {
      const c = client();
      const feed = c.attach();
      feed(bytes.subarray(0, cut));
      feed(bytes.subarray(cut));
      check(c.elements[0]);
    }
  });

  it("a new socket gets a new decoder: a partial character left by the old one does not leak", () => {
    const c = client();
    const old = c.attach();
    old(Buffer.concat([bytes.subarray(0, Buffer.byteLength(HEADER)), Buffer.from("🎉", "utf8").subarray(0, 2)]));
    const feed = c.attach();
    feed(bytes);
    expect(c.elements).toHaveLength(1);
    check(c.elements[0]);
  });
});
