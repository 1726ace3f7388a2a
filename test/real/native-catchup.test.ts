// Room catch-up on real Prosody with mod_muc_mam: messages posted while the bot process is stopped
// are handled after it starts (caughtUp, in order, a command among them answered), exactly once;
// a second restart handles none of them again. The bot runs in-process on botrun's XMPP transport
// with a file-backed cursor; the person posts through a second botrun XMPP transport (a raw xmpp.js
// client miscounts XEP-0198 acks when it talks right after login, and Prosody then drops it).
import { Bot, BotRuntime, createXmppTransport, loadConfig, silentLogger, xml, type Element, type Transport } from "@botrun/core";
import { commands, fileStorage, rooms, roomCatchUp, type CatchUpResult, type RoomCursor } from "@botrun/plugins";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";

let prosody: ProsodyHandle;
let alice: Transport;
let dir: string;
let runtime: BotRuntime | undefined;
const heard: string[] = [];
const ended: CatchUpResult[] = [];
const team = () => `team@${prosody.mucDomain}`;

/** Resolve with the first stanza alice receives (from now on) that matches, or fail after `ms`. */
function aliceGets(pred: (el: Element) => boolean, ms = 20_000): Promise<Element> {
  return new Promise((resolve, reject) => {
    const on = (el: Element) => {
      if (!pred(el)) return;
      clearTimeout(t);
      alice.off("stanza", on);
      resolve(el);
    };
    const t = setTimeout(() => (alice.off("stanza", on), reject(new Error(`alice got no matching stanza within ${ms} ms`))), ms);
    alice.on("stanza", on);
  });
}

const groupchat = (nick: string, body: string) => (el: Element) =>
  el.name === "message" && el.attrs.type === "groupchat" && el.attrs.from === `${team()}/${nick}` && el.getChildText("body") === body;

/** Alice posts in the room and waits until the room has broadcast it (so it is archived). */
async function post(body: string): Promise<void> {
  const echo = aliceGets(groupchat("alice", body));
  await alice.send(xml("message", { to: team(), type: "groupchat" }, xml("body", {}, body)));
  await echo;
}

/** Alice asks `!ping` and waits for the bot's live answer. */
async function pingLive(): Promise<void> {
  const answer = aliceGets(groupchat("keeper", "pong"));
  await post("!ping");
  await answer;
}

const xmppConfig = (user: string, password: string) =>
  loadConfig({
    XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
    XMPP_DOMAIN: prosody.domain,
    XMPP_CA_FILE: prosody.caFile,
    XMPP_USERNAME: user,
    XMPP_PASSWORD: password,
    XMPP_START_ATTEMPTS: "1",
  })!;

/** Start a fresh bot process's runtime (new Bot, same cursor directory); resolves once the room's catch-up ended. */
async function startBot(): Promise<CatchUpResult> {
  const before = ended.length;
  let caughtUp!: () => void;
  const done = new Promise<void>((res) => (caughtUp = res));
  const bot = new Bot({ name: "keeper" });
  const cmds = commands();
  cmds.command("ping", (ctx) => ctx.reply(`pong${ctx.caughtUp ? " (late)" : ""}`));
  bot.install(rooms({ join: [team()] }), roomCatchUp({ storage: fileStorage<RoomCursor>(dir), onCaughtUp: (_room, r) => (ended.push(r), caughtUp()) }));
  bot.use((ctx, next) => {
    if (ctx.type === "groupchat" && ctx.text !== undefined) heard.push(`${ctx.caughtUp ? "late" : "live"} ${ctx.nick}: ${ctx.text}`);
    return next();
  });
  bot.install(cmds);
  runtime = new BotRuntime(bot, createXmppTransport({ config: xmppConfig("keeper", "keeper-pw-1"), logger: silentLogger }), { logger: silentLogger });
  await runtime.start();
  await done;
  expect(ended.length).toBe(before + 1);
  return ended.at(-1)!;
}

async function stopBot(): Promise<void> {
  await runtime?.stop();
  runtime = undefined;
}

beforeAll(async () => {
  prosody = await startProsody({ mucMam: true });
  dir = await mkdtemp(join(tmpdir(), "botrun-catchup-"));
  await prosody.register("keeper", "keeper-pw-1");
  await prosody.register("alice", "alice-pw-1");
  alice = createXmppTransport({ config: xmppConfig("alice", "alice-pw-1"), logger: silentLogger });
  await alice.start();
  const self = aliceGets((el) => el.name === "presence" && el.attrs.from === `${team()}/alice`);
  await alice.send(xml("presence", { to: `${team()}/alice` }, xml("x", { xmlns: "http://jabber.org/protocol/muc" })));
  await self;
  await post("before the bot ever came");
}, 60_000);

// Each test is one run of the bot process.
afterEach(stopBot);

afterAll(async () => {
  await stopBot();
  await alice?.stop();
  await prosody?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("room catch-up on real Prosody (mod_muc_mam)", () => {
  it("first start: nothing old is handled (the archive's end is recorded); live messages are", async () => {
    expect(await startBot()).toMatchObject({ handled: 0, ended: "first-join" });
    await pingLive();
    expect(heard).toEqual(["live alice: !ping"]);
  }, 60_000);

  it("messages posted while the bot is stopped are handled after it starts, once, in order, caughtUp", async () => {
    await post("while you were out 1");
    await post("while you were out 2");
    const lateAnswer = aliceGets(groupchat("keeper", "pong (late)"));
    await post("!ping");
    await post("while you were out 3");
    heard.length = 0;
    const r = await startBot();
    expect(r).toMatchObject({ handled: 4, ended: "complete" });
    expect(heard).toEqual(["late alice: while you were out 1", "late alice: while you were out 2", "late alice: !ping", "late alice: while you were out 3"]);
    await lateAnswer;
    // Live again afterwards, and the join history (maxstanzas=0 asked, delayed dropped) never handled.
    await pingLive();
    expect(heard.at(-1)).toBe("live alice: !ping");
    expect(heard.filter((h) => h.includes("before the bot ever came"))).toEqual([]);
  }, 60_000);

  it("a second restart handles none of them again", async () => {
    heard.length = 0;
    expect(await startBot()).toMatchObject({ handled: 0, ended: "complete" });
    await pingLive();
    expect(heard).toEqual(["live alice: !ping"]);
  }, 60_000);
});
