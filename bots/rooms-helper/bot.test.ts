// How the rooms-helper bot behaves, written with botrun's offline test kit.
import { NS, xml, type Element } from "@botrun/core";
import { createHarness, Harness } from "@botrun/core/testing";
import { memoryStorage, type RoomCursor } from "@botrun/plugins";
import { FakeArchive } from "../../packages/plugins/test-support/archive.ts";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createRoomsHelper } from "./bot.ts";

const LOBBY = "lobby@conference.botrun.test";
const fast = { throttle: { perDestinationPerSecond: 100 } };

afterEach(() => {
  vi.useRealTimers();
});

describe("rooms-helper bot", () => {
  it("joins its rooms at start and says hello when mentioned", async () => {
    const t = await createHarness(createRoomsHelper({ rooms: [LOBBY], ...fast }));
    expect([...t.transport.rooms]).toEqual([[LOBBY, "helper"]]);
    await t.groupchat(LOBBY, "carol", "morning all");
    await t.groupchat(LOBBY, "carol", "helper, are you awake?");
    expect(t.replies()).toEqual(["Hi carol! Say `!help` to see what I can do."]);
  });

  it("answers commands in rooms only when addressed", async () => {
    const t = await createHarness(createRoomsHelper({ rooms: [LOBBY], ...fast }));
    await t.groupchat(LOBBY, "carol", "roll 1");
    await t.groupchat(LOBBY, "carol", "!roll 1");
    await t.groupchat(LOBBY, "carol", "helper: roll 1");
    expect(t.replies()).toEqual(["🎲 1", "🎲 1"]);
  });

  it("knows who is in the room", async () => {
    const t = await createHarness(createRoomsHelper({ rooms: [LOBBY], ...fast }));
    for (const nick of ["dave", "carol"]) {
      await t.push(xml("presence", { from: `${LOBBY}/${nick}` }, xml("x", { xmlns: NS.mucUser }, xml("item", { role: "participant" }))));
    }
    await t.groupchat(LOBBY, "carol", "!who");
    await t.say("!who");
    expect(t.replies()).toEqual(["Here: carol, dave", "`who` only works in a room."]);
  });

  it("lets admins move it between rooms, and tells others they may not", async () => {
    const t = await createHarness(createRoomsHelper({ rooms: [LOBBY], admins: ["boss@botrun.test"], ...fast }));
    await t.say("!join games@conference.botrun.test");
    await t.message("boss@botrun.test/pc", "!join games@conference.botrun.test");
    await t.message("boss@botrun.test/pc", "!join nonsense");
    await t.message("boss@botrun.test/pc", "!rooms");
    expect(t.replies()).toEqual([
      "Sorry, you are not allowed to use `join` (admins only).",
      "Joining games@conference.botrun.test.",
      '"nonsense" is not a room address (room@service).',
      `${LOBBY} (as helper)\ngames@conference.botrun.test (as helper)`,
    ]);
    await t.message("boss@botrun.test/pc", `!leave ${LOBBY}`);
    expect([...t.transport.rooms.keys()]).toEqual(["games@conference.botrun.test"]);
  });

  it("accepts invitations from admins only", async () => {
    // The direct invite's service is checked by disco#info first (issue 9.3): this one is a MUC service.
    const muc = (iq: Element) => (iq.attrs.to === "conference.botrun.test" ? xml("query", { xmlns: NS.discoInfo }, xml("identity", { category: "conference", type: "text" })) : undefined);
    const t = await createHarness(createRoomsHelper({ admins: ["boss@botrun.test"], ...fast }), { iq: muc });
    const invite = (from: string, room: string) => xml("message", { from }, xml("x", { xmlns: "jabber:x:conference", jid: room }));
    await t.push(invite("eve@evil.test/x", "trap@conference.botrun.test"));
    await t.push(invite("boss@botrun.test/pc", "team@conference.botrun.test"));
    expect([...t.transport.rooms.keys()]).toEqual(["team@conference.botrun.test"]);
  });

  it("cannot be made to run admin commands by a forged invite and forged occupant presences (issue 9.3)", async () => {
    const t = await createHarness(createRoomsHelper({ rooms: [LOBBY], admins: ["boss@botrun.test"], ...fast }), { muc: false });
    const mallory = "mallory@botrun.test";
    // A "mediated invite" sent by mallory herself: the `from` is her own JID, not a room; the invite claims boss.
    await t.push(xml("message", { from: `${mallory}/pc` }, xml("x", { xmlns: NS.mucUser }, xml("invite", { from: "boss@botrun.test/pc" }))));
    await t.push(xml("message", { from: mallory }, xml("x", { xmlns: NS.mucUser }, xml("invite", { from: "boss@botrun.test/pc" }))));
    expect(t.sent.filter((e) => e.name === "presence" && String(e.attrs.to).startsWith(mallory))).toEqual([]);
    // Occupant presences claiming boss's real JID, from her own JID and from a room the bot has not joined.
    const claim = (from: string, self = false) =>
      xml("presence", { from }, xml("x", { xmlns: NS.mucUser }, xml("item", { jid: "boss@botrun.test/pc", role: "moderator" }), ...(self ? [xml("status", { code: "110" })] : [])));
    await t.push(claim(`${mallory}/helper`, true));
    await t.push(claim(`${mallory}/boss`));
    await t.push(claim("other@conference.botrun.test/boss"));
    await t.push(xml("message", { from: `${mallory}/boss`, type: "groupchat" }, xml("body", {}, "!join evil@conference.botrun.test")));
    await t.push(xml("message", { from: "other@conference.botrun.test/boss", type: "groupchat" }, xml("body", {}, "!join evil@conference.botrun.test")));
    await t.push(xml("message", { from: `${mallory}/boss`, type: "chat" }, xml("body", {}, "!join evil@conference.botrun.test")));
    expect(t.replies().filter((r) => r.startsWith("Joining"))).toEqual([]);
    expect(t.sent.some((e) => String(e.attrs.to).startsWith("evil@"))).toBe(false);
  });

  it("accepts a mediated invite from a room on its MUC service, for an admin inviter", async () => {
    const t = await createHarness(createRoomsHelper({ rooms: [LOBBY], admins: ["boss@botrun.test"], ...fast }));
    await t.push(xml("message", { from: "team@conference.botrun.test" }, xml("x", { xmlns: NS.mucUser }, xml("invite", { from: "boss@botrun.test/pc" }))));
    expect([...t.transport.rooms.keys()]).toEqual([LOBBY, "team@conference.botrun.test"]);
  });

  it("two bots in one room do not answer each other in a loop (issue 9.9)", async () => {
    const quick = { throttle: { messagesPerSecond: 1000, perDestinationPerSecond: 1000, bytesPerSecond: 1e6 }, rateLimit: { capacity: 100 } };
    const a = await createHarness(createRoomsHelper({ rooms: [LOBBY], nick: "helper", ...quick }));
    // The other bot's nick is a word of the greeting ("Say"): every greeting mentions the other bot.
    const b = await createHarness(createRoomsHelper({ rooms: [LOBBY], nick: "say", ...quick }), { jid: "bot2@botrun.test/test" });
    const said: string[] = [];
    const bridge = (from: typeof a, nick: string, to: typeof a) =>
      from.runtime.on("sent", (el) => {
        if (el.name !== "message" || el.attrs.type !== "groupchat") return;
        said.push(`${nick}: ${el.getChildText("body")}`);
        to.transport.receive(xml("message", { ...el.attrs, from: `${LOBBY}/${nick}`, to: "x@botrun.test" }, ...el.getChildElements()));
      });
    bridge(a, "helper", b);
    bridge(b, "say", a);
    await a.groupchat(LOBBY, "carol", "helper?");
    for (let n = -1; n !== said.length && said.length < 50; ) {
      n = said.length;
      await a.settle();
      await b.settle();
    }
    expect(said).toEqual(["helper: Hi carol! Say `!help` to see what I can do.", "say: Hi helper! Say `!help` to see what I can do."]);
    await a.stop();
    await b.stop();
  });

  it("with catchUp, runs commands posted while it was down, once, but greets no old mention", async () => {
    const archive = new FakeArchive(LOBBY);
    archive.add("carol", "seen before");
    archive.add("carol", "!roll 1");
    archive.add("carol", "is helper around?");
    const storage = memoryStorage<RoomCursor>();
    storage.write(`catchup:${LOBBY}`, { id: "sid-1", at: Date.now() });
    let caughtUp!: (handled: number) => void;
    const ended = new Promise<number>((res) => (caughtUp = res));
    const t = new Harness(createRoomsHelper({ rooms: [LOBBY], ...fast, catchUp: { storage, onCaughtUp: (_room, r) => caughtUp(r.handled) } }), { iq: archive.respond });
    archive.harness = t;
    await t.runtime.start();
    expect(await ended).toBe(2);
    await t.stop(); // stores the cursor
    expect(t.replies()).toEqual(["🎲 1"]);
    expect(storage.read(`catchup:${LOBBY}`)?.id).toBe("sid-3");
  });

  it("rejoins its rooms after a reconnect", async () => {
    const t = await createHarness(createRoomsHelper({ rooms: [LOBBY], ...fast }));
    await t.reconnect();
    expect([...t.transport.rooms.keys()]).toEqual([LOBBY]);
  });

  it("warns a flooding user once and paces its own replies", async () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
    const t = await createHarness(createRoomsHelper({ rooms: [LOBBY] }));
    await vi.advanceTimersByTimeAsync(1000); // the join presence went through the throttle too: let its slot expire
    for (let i = 0; i < 8; i++) {
      t.transport.receive(xml("message", { from: `${LOBBY}/carol`, type: "groupchat" }, xml("body", {}, "!roll 1")));
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(t.replies()).toEqual(["🎲 1", "🎲 1"]); // 2 per second to one room
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.replies()).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(10_000);
    const warnings = t.replies().filter((r) => r.startsWith("You are sending messages too fast"));
    const dice = t.replies().filter((r) => r.startsWith("🎲"));
    expect(warnings).toHaveLength(1); // warned once, not once per dropped message
    const warning = t.sent.find((e) => e.getChildText("body")?.startsWith("You are sending"));
    expect([warning?.attrs.to, warning?.attrs.type]).toEqual([`${LOBBY}/carol`, "chat"]); // privately, not to the room
    expect(dice.length).toBeGreaterThanOrEqual(5); // the burst of 5, plus what refilled meanwhile
    expect(dice.length).toBeLessThan(8); // but not everything
    await t.stop();
  });

  it("offers its commands as XEP-0050 ad-hoc commands; admin-only ones refuse others there too", async () => {
    const t = await createHarness(createRoomsHelper({ admins: ["boss@botrun.test"], ...fast }));
    const cmd = (node: string, ...children: Element[]) => xml("command", { xmlns: "http://jabber.org/protocol/commands", node, action: "execute" }, ...children);
    const list = await t.iq("get", xml("query", { xmlns: NS.discoItems, node: "http://jabber.org/protocol/commands" }));
    expect(list.getChild("query")!.getChildren("item").map((i) => i.attrs.node)).toEqual(expect.arrayContaining(["rooms", "join", "leave"]));
    const form = (await t.iq("set", cmd("join"))).getChild("command")!;
    expect(form.getChild("x", "jabber:x:data")!.getChildren("field").map((f) => f.attrs.var)).toEqual(["room", "password"]);
    const submit = xml("x", { xmlns: "jabber:x:data", type: "submit" }, xml("field", { var: "room" }, xml("value", {}, "evil@conference.botrun.test")));
    const complete = (sid: string) => xml("command", { xmlns: "http://jabber.org/protocol/commands", node: "join", sessionid: sid, action: "complete" }, submit);
    const refused = await t.iq("set", complete(String(form.attrs.sessionid)));
    expect(refused.attrs.type).toBe("error");
    expect(refused.getChild("error")?.getChildElements().map((e) => e.name)).toContain("forbidden");
    expect([...t.transport.rooms]).toEqual([]);
    const boss = "boss@botrun.test/desk";
    const bossForm = (await t.iq("set", cmd("join"), { from: boss })).getChild("command")!;
    const done = (await t.iq("set", complete(String(bossForm.attrs.sessionid)), { from: boss })).getChild("command")!;
    expect(done.getChildText("note")).toBe("Joining evil@conference.botrun.test.");
  });
});
