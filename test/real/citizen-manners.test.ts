// Message manners through real Prosody with slixmpp as the client (test/env/citizen-client.py): a
// XEP-0308 correction of a command does not run it again, chat states carry a XEP-0334 no-store
// hint (no stale "is typing…" from offline storage), replies carry a XEP-0359 origin-id.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bot, type BotRuntime } from "@botrun/core";
import { chatStates, commands } from "@botrun/plugins";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { startPasswordRuntime } from "./helpers/echo-runtime.ts";
import { Citizen, type ClientEvent } from "./helpers/citizen.ts";

const PW = "manners-pw";
let prosody: ProsodyHandle;
let runtime: BotRuntime;
let client: Citizen;
let botJid: string;
let runs = 0;
/** Lets `!slow` finish (set by the test once it saw the composing state). */
let release: () => void = () => {};

beforeAll(async () => {
  prosody = await startProsody({ tls: "none" });
  await Promise.all([prosody.register("polite", PW), prosody.register("user", PW)]);
  const cmds = commands();
  cmds.command("count", { description: "Count how often I ran" }, (ctx) => ctx.reply(`run ${++runs}`));
  cmds.command("runs", { description: "How often count ran" }, (ctx) => ctx.reply(`runs so far: ${runs}`));
  cmds.command("slow", { description: "Answer once released" }, async (ctx) => {
    await new Promise<void>((r) => (release = r));
    await ctx.reply("done");
  });
  const bot = new Bot({ name: "polite", plugins: [chatStates({ composingDelayMs: 50 }), cmds] });
  const started = await startPasswordRuntime(bot, prosody, "polite", PW);
  runtime = started.runtime;
  botJid = started.transport.jid!;
  client = new Citizen(`user@${prosody.domain}/cli`, prosody.c2sPort, PW);
  await client.waitFor((e) => e.event === "online", "client online");
}, 60_000);

afterAll(async () => {
  release();
  await client?.stop();
  await runtime?.stop();
  await prosody?.stop();
});

const bodies = () => client.events.filter((e) => e.event === "message").map((e) => String(e.body));
const raw = (id: string, body: string, extra = "") => `<message to='${botJid}' type='chat' id='${id}'><body>${body}</body>${extra}</message>`;

describe("message manners, seen by a real client", () => {
  it("a corrected command is not run again; the next command runs once; replies carry an origin-id", async () => {
    await client.ask({ cmd: "raw", xml: raw("c1", "!count") });
    const first = await client.waitFor((e) => e.event === "message" && e.body === "run 1", "run 1");
    expect(first.origin_id).toEqual(expect.any(String));
    await client.ask({ cmd: "raw", xml: raw("c2", "!count ", "<replace xmlns='urn:xmpp:message-correct:0' id='c1'/>") });
    await client.ask({ cmd: "raw", xml: raw("c3", "!runs") });
    // Per-chat order: the reply to c3 comes after anything the bot sent for the correction c2.
    await client.waitFor((e) => e.event === "message" && String(e.body).startsWith("runs so far"), "the reply to !runs");
    expect(bodies()).toEqual(["run 1", "runs so far: 1"]);
  });

  it("a slow command shows 'composing' with a no-store hint, then the reply", async () => {
    const mark = client.events.length;
    await client.ask({ cmd: "raw", xml: raw("s1", "!slow") });
    const isState = (e: ClientEvent) => client.events.indexOf(e) >= mark && e.event === "chatstate" && e.state === "composing";
    const composing = await client.waitFor(isState, "composing");
    expect(composing.no_store).toBe(true);
    release();
    await client.waitFor((e) => client.events.indexOf(e) >= mark && e.event === "message" && e.body === "done", "done");
  });
});
