// Rooms: join from config, rejoin per session, nick conflicts, history and echoes, mentions, invites, PMs.
import { Bot, NS, StanzaError, xml, type Element } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mentioned, mentions, NS_CONFERENCE, rooms, type RoomsOptions } from "./index.ts";

const LOBBY = "lobby@conference.botrun.test";

function setup(opts: RoomsOptions = { join: [LOBBY] }) {
  const r = rooms(opts);
  const bot = new Bot({ name: "roomie" });
  bot.install(r);
  bot.on("message:body", (ctx) => ctx.reply(`${mentioned(ctx) ? "mentioned" : "heard"}: ${ctx.text}`));
  return { r, bot };
}
// Without the XEP-0115 caps the runtime adds to every available presence (tested in core).
/** Disco#info as servers answer it: the MUC services, and the hostile `evil.test` claiming to be one. */
const disco = (iq: Element) =>
  iq.getChild("query", NS.discoInfo) && ["conference.botrun.test", "muc.friends.test", "evil.test"].includes(String(iq.attrs.to))
    ? xml("query", { xmlns: NS.discoInfo }, xml("identity", { category: "conference", type: "text" }))
    : iq.attrs.to === "friends.test"
      ? xml("query", { xmlns: NS.discoInfo }, xml("identity", { category: "server", type: "im" }))
      : new StanzaError("service-unavailable", "cancel");
const joins = (sent: readonly Element[]) => sent.filter((e) => e.name === "presence").map((e) => e.toString().replace(/<c xmlns="http:\/\/jabber.org\/protocol\/caps"[^>]*\/>/, ""));

/** The room removing the bot (nick `roomie`): kicked (307), banned (301)… */
const removal = (code: string, nick = "roomie", self = nick === "roomie") =>
  xml(
    "presence",
    { from: `${LOBBY}/${nick}`, to: "bot@botrun.test/test", type: "unavailable" },
    xml(
      "x",
      { xmlns: NS.mucUser },
      xml("item", { affiliation: code === "301" ? "outcast" : "none", role: "none" }, xml("actor", { nick: "mod" }), xml("reason", {}, "calm down")),
      xml("status", { code }),
      ...(self ? [xml("status", { code: "110" })] : []),
    ),
  );

afterEach(() => {
  vi.useRealTimers();
});

describe("rooms plugin", () => {
  it("joins configured rooms with password and no history, and rejoins after every new session", async () => {
    const { r, bot } = setup({ join: [LOBBY, { room: "Secret@conference.botrun.test", nick: "rb", password: "pw" }] });
    const t = await createHarness(bot);
    expect(joins(t.sent)).toEqual([
      `<presence to="${LOBBY}/roomie"><x xmlns="${NS.muc}"><history maxstanzas="0"/></x></presence>`,
      `<presence to="secret@conference.botrun.test/rb"><x xmlns="${NS.muc}"><password>pw</password><history maxstanzas="0"/></x></presence>`,
    ]);
    expect(r.joined()).toEqual(new Map([[LOBBY, "roomie"], ["secret@conference.botrun.test", "rb"]]));
    t.clear();
    await t.reconnect();
    expect(joins(t.sent)).toHaveLength(2);
    expect([...t.transport.rooms.keys()]).toEqual([LOBBY, "secret@conference.botrun.test"]);
    expect(r.joined().size).toBe(2);
  });

  it("retries with nick_ on a conflict, then gives up after the limit", async () => {
    const errors: string[] = [];
    const { r, bot } = setup({ join: [LOBBY], maxNickRetries: 2, onJoinError: (room, c) => errors.push(`${room} ${c}`) });
    const t = await createHarness(bot, { muc: false });
    const conflict = (nick: string) =>
      xml(
        "presence",
        { from: `${LOBBY}/${nick}`, to: "bot@botrun.test/test", type: "error" },
        xml("error", { type: "cancel" }, xml("conflict", { xmlns: NS.stanzas })),
      );
    expect(joins(await t.push(conflict("roomie")))).toEqual([
      `<presence to="${LOBBY}/roomie_"><x xmlns="${NS.muc}"><history maxstanzas="0"/></x></presence>`,
    ]);
    expect(joins(await t.push(conflict("roomie_")))[0]).toContain(`${LOBBY}/roomie__`);
    expect(await t.push(conflict("roomie__"))).toEqual([]);
    expect(errors).toEqual([`${LOBBY} conflict`]);
    expect(r.joined().size).toBe(0);
  });

  it("takes the nick given in the self-presence after a conflict retry", async () => {
    const { r, bot } = setup();
    const t = await createHarness(bot, { muc: false });
    await t.push(xml("presence", { from: `${LOBBY}/roomie`, type: "error" }, xml("error", { type: "cancel" }, xml("conflict", { xmlns: NS.stanzas }))));
    await t.push(xml("presence", { from: `${LOBBY}/roomie_` }, xml("x", { xmlns: NS.mucUser }, xml("item", { role: "participant" }), xml("status", { code: "110" }))));
    expect(r.joined().get(LOBBY)).toBe("roomie_");
    await t.groupchat(LOBBY, "roomie_", "my own echo before core knows");
    await t.groupchat(LOBBY, "carol", "hi roomie_!");
    expect(t.replies()).toEqual(["mentioned: hi roomie_!"]);
  });

  it("ignores its own echoes and replayed history, and marks mentions", async () => {
    const { bot } = setup();
    const t = await createHarness(bot);
    await t.groupchat(LOBBY, "carol", "old news", { delayed: true });
    await t.groupchat(LOBBY, "carol", "hello all");
    await t.groupchat(LOBBY, "carol", "Roomie: are you there?");
    await t.groupchat(LOBBY, "carol", "@roomie ping");
    await t.groupchat(LOBBY, "carol", "roomies are nice");
    // each reply was echoed by the simulated room and not answered again
    expect(t.replies()).toEqual(["heard: hello all", "mentioned: Roomie: are you there?", "mentioned: @roomie ping", "heard: roomies are nice"]);
  });

  it("records real JIDs of occupants in non-anonymous rooms", async () => {
    const r = rooms({ join: [LOBBY] });
    const bot = new Bot({ name: "roomie" });
    bot.install(r);
    bot.on("message:groupchat:body", (ctx) => ctx.reply(String(ctx.locals.realJid ?? "unknown")));
    const t = await createHarness(bot);
    await t.push(xml("presence", { from: `${LOBBY}/dave` }, xml("x", { xmlns: NS.mucUser }, xml("item", { jid: "dave@botrun.test/pc", role: "participant" }))));
    await t.groupchat(LOBBY, "dave", "who am i");
    await t.groupchat(LOBBY, "anon", "and me");
    expect(t.replies()).toEqual(["dave@botrun.test/pc", "unknown"]);
    expect(r.occupants(LOBBY).get("dave")).toBe("dave@botrun.test/pc");
    await t.push(xml("presence", { from: `${LOBBY}/dave`, type: "unavailable" }, xml("x", { xmlns: NS.mucUser })));
    expect(r.occupants(LOBBY).has("dave")).toBe(false);
  });

  it("answers private messages from occupants to the occupant, not the room", async () => {
    const { bot } = setup();
    const t = await createHarness(bot);
    await t.push(xml("message", { from: `${LOBBY}/carol`, type: "chat" }, xml("body", {}, "psst")));
    await t.push(xml("message", { from: `${LOBBY}/dave`, type: "chat" }, xml("body", {}, "psst2"), xml("x", { xmlns: NS.mucUser })));
    const msgs = t.sent.filter((e) => e.name === "message");
    expect(msgs.map((e) => [e.attrs.to, e.attrs.type])).toEqual([
      [`${LOBBY}/carol`, "chat"],
      [`${LOBBY}/dave`, "chat"],
    ]);
  });

  it("accepts invitations from the allow-list and declines others", async () => {
    const { r, bot } = setup({ join: [], invites: { allow: ["*@friends.test"] } });
    const t = await createHarness(bot, { iq: disco });
    // XEP-0249 direct invite (its service is verified by disco first)
    await t.push(xml("message", { from: "ann@friends.test/x" }, xml("x", { xmlns: NS_CONFERENCE, jid: "party@conference.botrun.test", password: "p" })));
    // XEP-0045 mediated invite from a stranger
    const declined = await t.push(
      xml(
        "message",
        { from: "work@conference.botrun.test" },
        xml("x", { xmlns: NS.mucUser }, xml("invite", { from: "eve@evil.test/x" }, xml("reason", {}, "join us"))),
        xml("body", {}, "eve invites you"),
      ),
    );
    expect([...r.joined().keys()]).toEqual(["party@conference.botrun.test"]);
    expect(t.sent.some((e) => e.toString().includes("<password>p</password>"))).toBe(true);
    expect(declined.map((e) => e.toString())[0]).toContain('<decline to="eve@evil.test/x">');
    expect(t.replies()).toEqual([]); // invites are not chat
    // after a reconnect the invited room is rejoined
    t.clear();
    await t.reconnect();
    expect(r.joined().has("party@conference.botrun.test")).toBe(true);
  });

  it("believes mediated invites only from rooms on known MUC services, and never answers forged ones", async () => {
    const { r, bot } = setup({ join: [], invites: { allow: ["ann@friends.test"] }, services: ["muc.friends.test"] });
    const t = await createHarness(bot);
    const mediated = (from: string) => xml("message", { from }, xml("x", { xmlns: NS.mucUser }, xml("invite", { from: "ann@friends.test/x" })));
    const forged = [await t.push(mediated("ann@friends.test")), await t.push(mediated("mallory@friends.test/pc")), await t.push(mediated("muc.friends.test")), await t.push(mediated("room@muc.friends.test/nick"))];
    expect(forged.flat()).toEqual([]); // no join, no decline
    await t.push(mediated("Room@MUC.friends.test"));
    expect([...r.joined().keys()]).toEqual(["room@muc.friends.test"]);
  });

  it("takes occupants' real JIDs only from rooms it is entering or in, and uses them once joined", async () => {
    const r = rooms({ join: [LOBBY] });
    const bot = new Bot({ name: "roomie" });
    bot.install(r);
    bot.on("message:body", (ctx) => ctx.reply(String(ctx.locals.realJid ?? "unknown")));
    const t = await createHarness(bot, { muc: false });
    const occupant = (room: string, nick: string, real: string, self = false) =>
      xml("presence", { from: `${room}/${nick}` }, xml("x", { xmlns: NS.mucUser }, xml("item", { jid: real, role: "participant" }), ...(self ? [xml("status", { code: "110" })] : [])));
    await t.push(occupant(LOBBY, "dave", "dave@botrun.test/pc")); // XEP-0045 §7.2.3: occupants come before self-presence
    await t.groupchat(LOBBY, "dave", "before the self-presence");
    await t.push(occupant(LOBBY, "roomie", "bot@botrun.test/test", true));
    await t.groupchat(LOBBY, "dave", "joined");
    expect(t.replies()).toEqual(["unknown", "dave@botrun.test/pc"]);
    await t.push(occupant(LOBBY, "roomie", "bot@botrun.test/test", true));
    await t.push(xml("presence", { from: `${LOBBY}/roomie`, type: "unavailable" }, xml("x", { xmlns: NS.mucUser }, xml("status", { code: "110" }))));
    await t.push(occupant(LOBBY, "eve", "boss@botrun.test/pc")); // not in the room any more, not rejoining
    expect(r.occupants(LOBBY).size).toBe(0);
  });

  it("joins a direct invite's room only on a MUC service verified by disco, never the inviter's own JID (issue 9.3)", async () => {
    const r = rooms({ join: [], invites: { allow: ["*@friends.test", "*@evil.test", "mallory@botrun.test"] } });
    const bot = new Bot({ name: "roomie" });
    bot.install(r);
    bot.on("message:body", (ctx) => ctx.reply(String(ctx.locals.realJid ?? "unknown")));
    const t = await createHarness(bot, { muc: false, iq: disco });
    const direct = (from: string, room: string) => xml("message", { from }, xml("x", { xmlns: NS_CONFERENCE, jid: room }));
    const selfPresence = (room: string, nick = "roomie", real?: string) =>
      xml("presence", { from: `${room}/${nick}` }, xml("x", { xmlns: NS.mucUser }, xml("item", { role: "participant", ...(real ? { jid: real } : {}) }), ...(nick === "roomie" ? [xml("status", { code: "110" })] : [])));
    // Mallory "invites" the bot to her own JID; her client would answer the join as a room would.
    await t.push(direct("mallory@botrun.test/pc", "mallory@botrun.test"));
    await t.push(direct("ann@friends.test/x", "friends.test")); // a server, no local part
    await t.push(direct("ann@friends.test/x", "bob@friends.test")); // a user's domain: disco says server/im
    await t.push(direct("eve@evil.test/x", "eve@evil.test")); // a hostile server claims conference/text for its users' domain
    await t.push(direct("ann@friends.test/x", "room@nowhere.test")); // disco fails
    expect(joins(t.sent)).toEqual([]);
    await t.push(selfPresence("mallory@botrun.test"));
    await t.push(selfPresence("mallory@botrun.test", "boss", "boss@botrun.test/pc"));
    await t.push(xml("message", { from: "mallory@botrun.test/boss", type: "groupchat" }, xml("body", {}, "I am boss")));
    expect(r.joined().size).toBe(0);
    expect(r.occupants("mallory@botrun.test").size).toBe(0);
    expect(t.replies()).toEqual(["unknown"]);
    // A verified MUC service: joined, and its rooms are now believed for mediated invites.
    t.clear();
    await t.push(direct("ann@friends.test/x", "party@muc.friends.test"));
    expect(joins(t.sent)).toEqual([`<presence to="party@muc.friends.test/roomie"><x xmlns="${NS.muc}"><history maxstanzas="0"/></x></presence>`]);
    await t.push(selfPresence("party@muc.friends.test"));
    expect([...r.joined().keys()]).toEqual(["party@muc.friends.test"]);
    await t.push(xml("message", { from: "other@muc.friends.test" }, xml("x", { xmlns: NS.mucUser }, xml("invite", { from: "ann@friends.test/x" }))));
    expect(joins(t.sent).at(-1)).toContain("other@muc.friends.test/roomie");
  });

  it("counts a self-presence (110) as joined only for a join it sent", async () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
    const { r, bot } = setup({ join: [LOBBY], rejoinAfterKick: { delayMs: 60_000 } });
    const t = await createHarness(bot);
    await t.push(removal("307")); // kicked: a rejoin is pending, no join is out
    expect(r.joined().size).toBe(0);
    await t.push(xml("presence", { from: `${LOBBY}/roomie` }, xml("x", { xmlns: NS.mucUser }, xml("item", { role: "participant" }), xml("status", { code: "110" }))));
    expect(r.joined().size).toBe(0);
    await t.stop();
  });

  it("refuses all invitations by default", async () => {
    const { r, bot } = setup({ join: [] });
    const t = await createHarness(bot);
    await t.push(xml("message", { from: "ann@friends.test/x" }, xml("x", { xmlns: NS_CONFERENCE, jid: "party@conference.botrun.test" })));
    expect(r.joined().size).toBe(0);
  });

  it("joins and leaves at run time, leaving rooms on stop", async () => {
    const { r, bot } = setup({ join: [] });
    const t = await createHarness(bot);
    await r.join("dyn@conference.botrun.test");
    await t.settle();
    expect(r.joined().has("dyn@conference.botrun.test")).toBe(true);
    await r.join(LOBBY);
    await t.settle();
    await r.leave("dyn@conference.botrun.test", "bye");
    await t.settle();
    expect([...r.joined().keys()]).toEqual([LOBBY]);
    t.clear();
    await t.stop();
    expect(t.sent.map((e) => e.toString())).toEqual([`<presence to="${LOBBY}/roomie" type="unavailable"/>`]);
  });

  it("rejoins after a kick (307) with a delay that doubles on repeated kicks", async () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
    const removed: string[] = [];
    const { r, bot } = setup({ join: [LOBBY], rejoinAfterKick: { delayMs: 1000, maxDelayMs: 60_000 }, onRemoved: (room, how, d) => removed.push(`${room} ${how} by ${d.actor}: ${d.reason}`) });
    const t = await createHarness(bot);
    expect(r.joined().has(LOBBY)).toBe(true);
    t.clear();
    await t.push(removal("307"));
    expect(removed).toEqual([`${LOBBY} kicked by mod: calm down`]);
    expect(r.joined().size).toBe(0);
    await vi.advanceTimersByTimeAsync(999);
    expect(joins(t.sent)).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await t.settle();
    expect(joins(t.sent)).toEqual([`<presence to="${LOBBY}/roomie"><x xmlns="${NS.muc}"><history maxstanzas="0"/></x></presence>`]);
    expect(r.joined().get(LOBBY)).toBe("roomie");
    // kicked again at once: now it waits twice as long
    t.clear();
    await t.push(removal("307"));
    await vi.advanceTimersByTimeAsync(1999);
    expect(joins(t.sent)).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await t.settle();
    expect(joins(t.sent)).toHaveLength(1);
    // after staying a while (maxDelayMs), a kick starts the backoff over
    await vi.advanceTimersByTimeAsync(60_000);
    t.clear();
    await t.push(removal("307"));
    await vi.advanceTimersByTimeAsync(1000);
    await t.settle();
    expect(joins(t.sent)).toHaveLength(1);
    expect(r.joined().has(LOBBY)).toBe(true);
    await t.stop();
  });

  it("does not rejoin after a ban (301), not even on a new session, nor after a kick when told not to", async () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
    const removed: string[] = [];
    const { r, bot } = setup({ join: [LOBBY], onRemoved: (room, how) => removed.push(`${room} ${how}`) });
    const t = await createHarness(bot);
    t.clear();
    await t.push(removal("301"));
    await vi.advanceTimersByTimeAsync(600_000);
    await t.reconnect();
    expect(joins(t.sent)).toEqual([]);
    expect(r.joined().size).toBe(0);
    expect(removed).toEqual([`${LOBBY} banned`]);
    await t.stop();

    const off = setup({ join: [LOBBY], rejoinAfterKick: false });
    const t2 = await createHarness(off.bot);
    t2.clear();
    await t2.push(removal("307"));
    await vi.advanceTimersByTimeAsync(600_000);
    expect(joins(t2.sent)).toEqual([]);
    expect(off.r.joined().size).toBe(0);
    await t2.stop();
  });

  it("cancels a pending rejoin on leave and on stop, and ignores others being kicked", async () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
    const { r, bot } = setup({ join: [LOBBY, "other@conference.botrun.test"] });
    const t = await createHarness(bot);
    await t.push(xml("presence", { from: `${LOBBY}/dave` }, xml("x", { xmlns: NS.mucUser }, xml("item", { role: "participant" }))));
    await t.push(removal("307", "dave")); // someone else kicked: no status 110, not our nick
    expect(r.joined().has(LOBBY)).toBe(true);
    expect(r.occupants(LOBBY).has("dave")).toBe(false);
    await t.push(removal("307"));
    await r.leave(LOBBY);
    t.clear();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(joins(t.sent)).toEqual([]);
    await t.push(xml("presence", { from: "other@conference.botrun.test/roomie", type: "unavailable" }, xml("x", { xmlns: NS.mucUser }, xml("status", { code: "307" }), xml("status", { code: "110" }))));
    await t.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("detects mentions as whole words only", () => {
    expect(mentions("hey bot!", "bot")).toBe(true);
    expect(mentions("robots", "bot")).toBe(false);
    expect(mentions("BOT: x", "bot")).toBe(true);
    expect(mentions("ask the.bot now", "the.bot")).toBe(true);
    expect(mentions("ask theXbot now", "the.bot")).toBe(false);
  });

  it("advertises MUC and direct invitations in disco#info (XEP-0045 §6.1, XEP-0249 §3)", async () => {
    const bot = new Bot({ name: "r" });
    bot.install(rooms({}));
    const t = await createHarness(bot);
    const info = await t.iq("get", xml("query", { xmlns: NS.discoInfo }));
    const vars = info.getChild("query")!.getChildren("feature").map((f) => f.attrs.var);
    expect(vars).toEqual(expect.arrayContaining([NS.muc, NS_CONFERENCE]));
  });
});
