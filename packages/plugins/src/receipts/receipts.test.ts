// Receipts (XEP-0184).
import { Bot, NS, xml, type Element } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { scheduler } from "../scheduler/index.ts";
import { chatStates } from "../chat-states/index.ts";
import { receipts } from "./index.ts";

const withRequest = [xml("request", { xmlns: NS.receipts })];
/** The stanza as XML without generated ids and the core's XEP-0359 origin-id (not this plugin's business). */
const strip = (el: Element) => el.toString().replace(/<origin-id [^>]*\/>/g, "").replace(/ id="br-[^"]+"/g, "");

afterEach(() => {
  vi.useRealTimers();
});

describe("receipts", () => {
  it("advertises receipts and chat states in disco#info (XEP-0184 §5, XEP-0085 §11) and in the caps hash", async () => {
    const bot = new Bot({ name: "r" });
    bot.install(receipts(), chatStates());
    const t = await createHarness(bot);
    const info = await t.iq("get", xml("query", { xmlns: NS.discoInfo }));
    const vars = info.getChild("query")!.getChildren("feature").map((f) => f.attrs.var);
    expect(vars).toEqual(expect.arrayContaining([NS.receipts, NS.chatStates, NS.correct]));
  });

  it("never answers a receipt request in an error or headline message (RFC 6121 §5.2.2)", async () => {
    const bot = new Bot({ name: "r" });
    bot.install(receipts());
    const t = await createHarness(bot);
    for (const type of ["error", "headline"] as const) {
      const el = xml("message", { from: "alice@botrun.test/phone", to: "bot@botrun.test/test", type, id: `x-${type}` }, xml("body", {}, "bounced"), ...withRequest);
      expect(await t.push(el)).toEqual([]);
    }
  });

  it("answers a receipt request with <received id>, but not in groupchat or for delayed messages", async () => {
    const bot = new Bot({ name: "r" });
    bot.install(receipts());
    const t = await createHarness(bot);
    const out = await t.say("hi", { id: "m1", children: withRequest });
    expect(out.map(strip)).toEqual([`<message to="alice@botrun.test/phone" type="chat"><received xmlns="${NS.receipts}" id="m1"/></message>`]);
    expect(await t.say("old", { id: "m2", children: withRequest, delayed: true })).toEqual([]);
    await t.joinRoom("r@conference.botrun.test", "r");
    expect(await t.groupchat("r@conference.botrun.test", "carol", "x", { id: "m3", children: withRequest })).toEqual([]);
    expect(await t.say("no request", { id: "m4" })).toEqual([]);
  });

  it("requests receipts on outgoing chat messages and tracks acknowledgements", async () => {
    const acks: string[] = [];
    const rc = receipts({ request: true, onAck: (id) => acks.push(id) });
    const bot = new Bot({ name: "r" });
    bot.install(rc);
    let bodies = 0;
    bot.on("message:body", (ctx) => {
      bodies++;
      return ctx.reply("noted");
    });
    const t = await createHarness(bot);
    const [reply] = await t.say("hello");
    expect(reply!.getChild("request", NS.receipts)).toBeDefined();
    const id = String(reply!.attrs.id);
    expect(rc.pending()).toEqual([id]);
    const acked = rc.waitForAck(id, 1000);
    await t.push(xml("message", { from: "alice@botrun.test/phone", type: "chat" }, xml("received", { xmlns: NS.receipts, id })));
    expect(await acked).toBe(true);
    expect(acks).toEqual([id]);
    expect(rc.pending()).toEqual([]);
    expect(bodies).toBe(1); // the bare receipt did not reach the chat handler
    expect(await rc.waitForAck("unknown")).toBe(false);
  });

  it("requests receipts on plugin sends too (a scheduler job), never on groupchat", async () => {
    vi.useFakeTimers();
    const rc = receipts({ request: true });
    const sched = scheduler();
    const bot = new Bot({ name: "r" });
    bot.install(rc, sched);
    const t = await createHarness(bot);
    sched.at(new Date(Date.now() + 1000), "nudge", async (job) => {
      await job.say("bob@botrun.test", "wake up");
      await job.say("room@conference.botrun.test", "morning", "groupchat");
    });
    await vi.advanceTimersByTimeAsync(1000);
    const [chat, room] = t.sent;
    expect(chat!.getChild("request", NS.receipts)).toBeDefined();
    expect(room!.getChild("request", NS.receipts)).toBeUndefined();
    expect(rc.pending()).toEqual([String(chat!.attrs.id)]);
    await t.stop();
  });

  it("times out waiting for an ack that never comes", async () => {
    vi.useFakeTimers();
    const rc = receipts({ request: true });
    const bot = new Bot({ name: "r" });
    bot.install(rc);
    bot.on("message:body", (ctx) => ctx.reply("noted"));
    const t = await createHarness(bot);
    const [reply] = await t.say("hello");
    const p = rc.waitForAck(String(reply!.attrs.id), 5000);
    await vi.advanceTimersByTimeAsync(5000);
    expect(await p).toBe(false);
  });
});
