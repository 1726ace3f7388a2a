import { describe, expect, it } from "vitest";
import { parseAccountLines, parseLease } from "./accounts.ts";

describe("parseAccountLines", () => {
  it("reads refresh-token and password accounts, overrides, blank lines; JIDs lower-cased", () => {
    const text = '{"jid":"A@Example.org","refreshToken":"rt1"}\n\n{"jid":"b@example.org","password":"pw","overrides":{"XMPP_SERVICE":"xmpp://h:5222"}}\r\n';
    expect(parseAccountLines(text, "f.jsonl")).toEqual([
      { jid: "a@example.org", refreshToken: "rt1", overrides: {} },
      { jid: "b@example.org", password: "pw", overrides: { XMPP_SERVICE: "xmpp://h:5222" } },
    ]);
  });

  it.each([
    ["not json", "f.jsonl line 1: expected a JSON object"],
    ['{"jid":"nodomain","password":"p"}', "bare JID"],
    ['{"jid":"a@b/res","password":"p"}', "bare JID"],
    ['{"jid":"a@b"}', 'exactly one of "refreshToken" or "password"'],
    ['{"jid":"a@b","password":"p","refreshToken":"r"}', 'exactly one of "refreshToken" or "password"'],
    ['{"jid":"a@b","password":"p","overrides":{"OAUTH_CLIENT_SECRET":"x"}}', "not OAUTH_CLIENT_SECRET"],
    ['{"jid":"a@b","password":"p","overrides":{"XMPP_SERVICE":1}}', "string values"],
  ])("refuses %s, naming the line and never echoing secrets", (line, msg) => {
    let err: Error | undefined;
    try {
      parseAccountLines(line, "f.jsonl");
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toContain(msg);
    expect(err?.message).toMatch(/^f\.jsonl line 1: /);
    expect(err?.message).not.toMatch(/"p"|"r"|"x"/);
  });

  it("refuses a JID listed twice", () => {
    expect(() => parseAccountLines('{"jid":"a@b","password":"p"}\n{"jid":"A@b","password":"q"}', "f")).toThrow(/f line 2: .*a@b appears again/);
  });
});

describe("parseLease", () => {
  it("splits worker (which may hold ':'), epoch and generation", () => {
    expect(parseLease("host:123:ab12:7")).toEqual({ worker: "host:123", epoch: "ab12", generation: 7 });
    expect(parseLease(null)).toBeUndefined();
    expect(parseLease("x")).toBeUndefined();
  });
});

describe("accountOf / perAccountChat", () => {
  it("names the account from the bot's JID (else the stanza's to), bare and lower-case", async () => {
    const { accountOf, perAccountChat } = await import("./account-of.ts");
    expect(accountOf({ bot: { jid: "Help@Example.org/botrun" }, to: "x@y" })).toBe("help@example.org");
    expect(accountOf({ bot: { jid: undefined }, to: "sales@example.org/botrun" })).toBe("sales@example.org");
    expect(perAccountChat({ bot: { jid: "a@h/botrun" }, to: "a@h", chat: "alice@h" })).toBe("acct:a@h:chat:alice@h");
    expect(perAccountChat({ bot: { jid: "b@h/botrun" }, to: "b@h", chat: "alice@h" })).not.toBe(perAccountChat({ bot: { jid: "a@h/botrun" }, to: "a@h", chat: "alice@h" }));
    expect(perAccountChat({ bot: { jid: "a@h/botrun" }, to: "a@h", chat: "" })).toBeUndefined();
  });
});
