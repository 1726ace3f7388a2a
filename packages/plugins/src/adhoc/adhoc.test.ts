// Ad-hoc commands (XEP-0050) from the commands router, offline: list, form, execute, guards, cancel, sessions.
import { Bot, NS, xml, type Context, type Element } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { describe, expect, it } from "vitest";
import { access } from "../access/index.ts";
import { commands } from "../commands/index.ts";
import { adhoc, adhocStep, NS_COMMANDS, NS_DATA } from "./index.ts";

const ADMIN = "boss@botrun.test/desk";

async function setup(prefix?: string) {
  const cmds = commands(prefix === undefined ? {} : { prefix, bareInChat: false });
  cmds.command("ping", { description: "Answer pong" }, (ctx) => ctx.reply("pong"));
  cmds.command(
    "remind",
    { description: "Set a reminder", args: [{ name: "minutes", type: "integer" }, { name: "unit", choices: ["min", "h"], optional: true }, { name: "text", type: "rest", optional: true }] },
    (ctx) => ctx.reply(`in ${ctx.params.minutes} ${ctx.params.unit ?? "min"}: ${ctx.params.text ?? ""}`),
  );
  cmds.command("deploy", { description: "Deploy", tags: ["admin"] }, (ctx) => ctx.reply("deployed"));
  cmds.command("secret", { hidden: true }, (ctx) => ctx.reply("s"));
  cmds.command("release", { description: "Release", args: [{ name: "env", choices: ["staging", "prod"] }] }, async (ctx) => {
    const step = adhocStep(ctx);
    if (step && !step.values.has("confirm")) {
      await ctx.reply(`checked ${ctx.params.env}`);
      return step.ask([{ name: "confirm", type: "boolean" }], `Release to ${ctx.params.env}?`);
    }
    const yes = !step || step.values.get("confirm") === "1" || step.values.get("confirm") === "true";
    await ctx.reply(yes ? `released to ${ctx.params.env} (step ${step?.step ?? "text"})` : "not released");
  });
  const acl = access({ admins: ["boss@botrun.test"] });
  cmds.guard(acl.guard);
  const bot = new Bot<Context>({ name: "ad" });
  bot.install(cmds, adhoc(cmds));
  return createHarness(bot);
}

const cmd = (node: string, attrs: Record<string, string> = {}, ...children: Element[]) => xml("command", { xmlns: NS_COMMANDS, node, ...attrs }, ...children);
const submit = (values: Record<string, string>) =>
  xml("x", { xmlns: NS_DATA, type: "submit" }, ...Object.entries(values).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v))));
const result = (res: Element) => res.getChild("command", NS_COMMANDS)!;
const cond = (res: Element) => res.getChild("error")?.getChildElements().filter((e) => e.name !== "text").map((e) => e.name);

describe("ad-hoc commands", () => {
  it("lists the router's visible commands under the commands node, each with node info", async () => {
    const t = await setup();
    const items = (await t.iq("get", xml("query", { xmlns: NS.discoItems, node: NS_COMMANDS }))).getChild("query")!.getChildren("item");
    expect(items.map((i) => [i.attrs.node, i.attrs.name, i.attrs.jid])).toEqual([
      ["help", "List commands, or explain one", "bot@botrun.test/test"],
      ["ping", "Answer pong", "bot@botrun.test/test"],
      ["remind", "Set a reminder", "bot@botrun.test/test"],
      ["deploy", "Deploy", "bot@botrun.test/test"],
      ["release", "Release", "bot@botrun.test/test"],
    ]);
    const info = (await t.iq("get", xml("query", { xmlns: NS.discoInfo, node: "ping" }))).getChild("query")!;
    expect(info.getChild("identity")?.attrs).toMatchObject({ category: "automation", type: "command-node" });
    const features = (await t.iq("get", xml("query", { xmlns: NS.discoInfo }))).getChild("query")!.getChildren("feature").map((f) => f.attrs.var);
    expect(features).toContain(NS_COMMANDS);
  });

  it("a command without arguments completes at once with its reply as the note; nothing is sent as a message", async () => {
    const t = await setup();
    const res = await t.iq("set", cmd("ping", { action: "execute" }));
    expect(res.attrs.type).toBe("result");
    expect(result(res).attrs.status).toBe("completed");
    expect(result(res).getChild("note")?.attrs.type).toBe("info");
    expect(result(res).getChildText("note")).toBe("pong");
    expect(t.replies()).toEqual([]);
  });

  it("typed arguments: a form (types, required, choices), then the submitted form runs the command", async () => {
    const t = await setup();
    const first = result(await t.iq("set", cmd("remind")));
    expect(first.attrs.status).toBe("executing");
    const fields = first.getChild("x", NS_DATA)!.getChildren("field");
    expect(fields.map((f) => [f.attrs.var, f.attrs.type, f.getChild("required") !== undefined])).toEqual([
      ["minutes", "text-single", true],
      ["unit", "list-single", false],
      ["text", "text-multi", false],
    ]);
    expect(fields[1]!.getChildren("option").map((o) => o.getChildText("value"))).toEqual(["min", "h"]);
    const sid = String(first.attrs.sessionid);
    const bad = result(await t.iq("set", cmd("remind", { sessionid: sid, action: "complete" }, submit({ minutes: "soon" }))));
    expect([bad.attrs.status, bad.getChild("note")?.attrs.type]).toEqual(["executing", "error"]);
    const done = result(await t.iq("set", cmd("remind", { sessionid: sid, action: "complete" }, submit({ minutes: "5", unit: "h", text: "tea  \"now\"" }))));
    expect([done.attrs.status, done.getChildText("note")]).toEqual(["completed", 'in 5 h: tea "now"']);
    // The session is closed: reusing it is a bad-sessionid.
    const again = await t.iq("set", cmd("remind", { sessionid: sid, action: "complete" }, submit({ minutes: "5" })));
    expect(cond(again)).toEqual(["bad-request", "bad-sessionid"]);
  });

  it("guards apply: a refused user gets forbidden with the refusal text; an admin runs it", async () => {
    const t = await setup();
    const res = await t.iq("set", cmd("deploy"));
    expect(res.attrs.type).toBe("error");
    expect(cond(res)?.[0]).toBe("forbidden");
    expect(res.getChild("error")?.getChildText("text", NS.stanzas)).toMatch(/not allowed/);
    expect(result(await t.iq("set", cmd("deploy"), { from: ADMIN })).getChildText("note")).toBe("deployed");
  });

  it("cancel closes the session; another user cannot use it; unknown and hidden nodes are item-not-found", async () => {
    const t = await setup();
    const sid = String(result(await t.iq("set", cmd("remind"))).attrs.sessionid);
    expect(cond(await t.iq("set", cmd("remind", { sessionid: sid, action: "cancel" }), { from: ADMIN }))).toEqual(["bad-request", "bad-sessionid"]);
    expect(result(await t.iq("set", cmd("remind", { sessionid: sid, action: "cancel" }))).attrs.status).toBe("canceled");
    expect(cond(await t.iq("set", cmd("remind", { sessionid: sid, action: "complete" }, submit({ minutes: "1" }))))).toEqual(["bad-request", "bad-sessionid"]);
    expect(cond(await t.iq("set", cmd("nope")))).toEqual(["item-not-found"]);
    expect(cond(await t.iq("set", cmd("secret")))).toEqual(["item-not-found"]);
  });

  it("runs through a router with its own prefix (and no bare words)", async () => {
    const t = await setup("bot.");
    expect(result(await t.iq("set", cmd("ping"))).getChildText("note")).toBe("pong");
  });

  it("multi-step: a handler asks a second form; the values add up; typed as text it runs at once", async () => {
    const t = await setup();
    const sid = String(result(await t.iq("set", cmd("release"))).attrs.sessionid);
    const second = result(await t.iq("set", cmd("release", { sessionid: sid, action: "complete" }, submit({ env: "prod" }))));
    expect([second.attrs.status, second.attrs.sessionid, second.getChildText("note")]).toEqual(["executing", sid, "checked prod"]);
    const form = second.getChild("x", NS_DATA)!;
    expect([form.getChildText("title"), form.getChildren("field").map((f) => [f.attrs.var, f.attrs.type])]).toEqual(["Release to prod?", [["confirm", "boolean"]]]);
    const missing = result(await t.iq("set", cmd("release", { sessionid: sid, action: "complete" }, submit({}))));
    expect([missing.attrs.status, missing.getChild("note")?.attrs.type]).toEqual(["executing", "error"]);
    const done = result(await t.iq("set", cmd("release", { sessionid: sid, action: "complete" }, submit({ confirm: "1" }))));
    expect([done.attrs.status, done.getChildText("note")]).toEqual(["completed", "released to prod (step 1)"]);
    expect(await t.say("!release staging")).toHaveLength(1);
    expect(t.lastReply()).toBe("released to staging (step text)");
  });
});
