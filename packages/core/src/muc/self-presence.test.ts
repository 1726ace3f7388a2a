// The one self-presence tracker (issue 11.2): the bot's nick per room from XEP-0045 status 110.
import { describe, expect, it } from "vitest";
import { Bot } from "../bot.ts";
import { xml } from "../stanza.ts";
import { createHarness } from "../testing/index.ts";
import { mucStatusCodes, RoomNicks } from "./self-presence.ts";

const ROOM = "lobby@conference.botrun.test";
const mucPresence = (nick: string, codes: string[], type?: string) =>
  xml(
    "presence",
    { from: `${ROOM}/${nick}`, to: "bot@botrun.test/test", ...(type ? { type } : {}) },
    xml("x", { xmlns: "http://jabber.org/protocol/muc#user" }, xml("item", { role: "participant" }), ...codes.map((code) => xml("status", { code }))),
  );

describe("RoomNicks", () => {
  it("learns the nick from self-presence only, forgets it when the bot leaves", async () => {
    const nicks = new RoomNicks();
    const seen: (string | undefined)[] = [];
    const bot = new Bot({ name: "t" });
    bot.on("presence", (ctx) => {
      nicks.track(ctx);
      seen.push(nicks.get(ROOM));
    });
    const h = await createHarness(bot, { muc: false });
    await h.push(mucPresence("alice", [])); // another occupant
    await h.push(mucPresence("botty", ["110", "201"]));
    await h.push(mucPresence("bob", [], "unavailable")); // another occupant leaves
    await h.push(mucPresence("botty", ["110"], "unavailable"));
    expect(seen).toEqual([undefined, "botty", "botty", undefined]);
    expect(nicks.get(undefined)).toBeUndefined();
  });

  it("mucStatusCodes reads the muc#user status codes, none without the payload", () => {
    expect(mucStatusCodes(mucPresence("x", ["110", "303"]))).toEqual(["110", "303"]);
    expect(mucStatusCodes(xml("presence", { from: `${ROOM}/x` }, xml("status", {}, "away")))).toEqual([]);
  });
});
