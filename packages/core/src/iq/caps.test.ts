// XEP-0115 verification strings: the XEP's own examples (§5.2 simple, §5.3 with a data form),
// octet ordering, and the <c/> element added once to available presences only.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { NS, presence } from "../stanza.ts";
import { addCaps, capsVer, CAPS_NODE } from "./caps.ts";

const FEATURES = [
  "http://jabber.org/protocol/disco#items",
  "http://jabber.org/protocol/caps",
  "http://jabber.org/protocol/muc",
  "http://jabber.org/protocol/disco#info",
];

describe("capsVer", () => {
  it("matches XEP-0115 §5.2 (simple generation example)", () => {
    expect(capsVer({ identities: [{ category: "client", type: "pc", name: "Exodus 0.9.1" }], features: FEATURES })).toBe(
      "QgayPKawpkPSDYmwT/WM94uAlu0=",
    );
  });

  it("matches XEP-0115 §5.3 (complex example: two identities with xml:lang, an extension form)", () => {
    const ver = capsVer({
      identities: [
        { category: "client", type: "pc", lang: "en", name: "Psi 0.11" },
        { category: "client", type: "pc", lang: "el", name: "Ψ 0.11" },
      ],
      features: FEATURES,
      forms: [
        {
          formType: "urn:xmpp:dataforms:softwareinfo",
          fields: { software_version: ["0.11"], os: ["Mac"], ip_version: ["ipv6", "ipv4"], os_version: ["10.5.1"], software: ["Psi"] },
        },
      ],
    });
    expect(ver).toBe("q07IKJEyjvHSyhy//CH0CxmKi8w=");
  });

  it("sorts by UTF-8 octets (i;octet), not UTF-16 code units, and uses the raw characters", () => {
    const ver = capsVer({ identities: [{ category: "client", type: "bot", name: "a<b&c" }], features: ["\u{1F600}", "\uFFFD"] });
    const expected = createHash("sha1").update("client/bot//a<b&c<\uFFFD<\u{1F600}<", "utf8").digest("base64");
    expect(ver).toBe(expected);
  });

  it("sorts identities field by field (category, then type), not as joined strings", () => {
    const ids = [
      { category: "client", type: "pc-x" },
      { category: "client", type: "pc" },
    ];
    const expected = createHash("sha1").update("client/pc//<client/pc-x//<", "utf8").digest("base64");
    expect(capsVer({ identities: ids, features: [] })).toBe(expected);
  });
});

describe("addCaps", () => {
  it("adds <c/> once to available presences, not to other types", () => {
    const p = addCaps(addCaps(presence({ show: "away" }), "V"), "V");
    expect(p.getChildren("c", NS.caps).map((c) => c.attrs)).toEqual([{ xmlns: NS.caps, hash: "sha-1", node: CAPS_NODE, ver: "V" }]);
    for (const type of ["unavailable", "subscribe", "subscribed"] as const) {
      expect(addCaps(presence({ type, to: "a@b" }), "V").getChild("c", NS.caps)).toBeUndefined();
    }
  });
});
