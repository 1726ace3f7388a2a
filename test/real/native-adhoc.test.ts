// XEP-0050 ad-hoc commands through real Prosody, driven by slixmpp's xep_0050 client
// (test/env/adhoc-client.py): list, execute with a form, a refused user, a two-step command, a cancelled session.
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bot, type BotRuntime } from "@botrun/core";
import { access, adhoc, adhocStep, commands } from "@botrun/plugins";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { stopChild } from "../env/proc.ts";
import { startPasswordRuntime } from "./helpers/echo-runtime.ts";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "../env/adhoc-client.py");
const PW = "adhoc-pw";
type Line = { event: string; tag?: string; [k: string]: unknown };
type Step = { status?: string; sessionid?: string; notes?: string[][]; fields?: unknown[][]; error?: string; text?: string };

/** One slixmpp client process: JSON commands in, JSON lines out. */
function client(user: string, port: number) {
  const proc: ChildProcess = spawn("/usr/bin/python3", [SCRIPT, "--jid", `${user}/cli`, "--port", String(port)], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ADHOC_PASSWORD: PW, PYTHONUNBUFFERED: "1" },
  });
  const lines: Line[] = [];
  const wake = new Set<() => void>();
  let stderr = "";
  proc.stderr!.on("data", (b: Buffer) => void (stderr = (stderr + b.toString()).slice(-3000)));
  createInterface({ input: proc.stdout! }).on("line", (l) => {
    try {
      lines.push(JSON.parse(l) as Line);
    } catch {
      return;
    }
    wake.forEach((w) => w());
  });
  proc.on("exit", () => wake.forEach((w) => w()));
  const until = (pred: (l: Line) => boolean, what: string) =>
    new Promise<Line>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no ${what} within 30 s: ${stderr}`)), 30_000);
      const finish = (err?: Error, l?: Line) => {
        clearTimeout(timer);
        wake.delete(check);
        if (err) reject(err);
        else resolve(l!);
      };
      const check = () => {
        const l = lines.find(pred);
        if (l) finish(undefined, l);
        else if (proc.exitCode !== null) finish(new Error(`client exited before ${what}: ${stderr}`));
      };
      wake.add(check);
      check();
    });
  let n = 0;
  return {
    online: () => until((l) => l.event === "online", "online"),
    async ask(cmd: Record<string, unknown>): Promise<Line> {
      const tag = `q${++n}`;
      proc.stdin!.write(`${JSON.stringify({ ...cmd, tag })}\n`);
      const l = await until((x) => x.tag === tag, JSON.stringify(cmd));
      if (l.event === "failed") throw new Error(String(l.error));
      return l;
    },
    stop: () => {
      proc.stdin!.end(`${JSON.stringify({ cmd: "quit" })}\n`);
      return stopChild(proc, 3000);
    },
  };
}

let prosody: ProsodyHandle;
let runtime: BotRuntime;
let boss: ReturnType<typeof client>;
let guest: ReturnType<typeof client>;
let botJid: string;
const run = async (c: typeof boss, node: string, extra: Record<string, unknown> = {}) =>
  ((await c.ask({ cmd: "run", jid: botJid, node, ...extra })).steps as Step[]);

beforeAll(async () => {
  prosody = await startProsody({ tls: "none" });
  await Promise.all(["adhocbot", "boss", "guest"].map((u) => prosody.register(u, PW)));
  const cmds = commands();
  cmds.command("ping", { description: "Answer pong" }, (ctx) => ctx.reply("pong"));
  cmds.command("weather", { description: "Weather for a city", args: [{ name: "city" }, { name: "units", choices: ["metric", "imperial"], optional: true }] },
    (ctx) => ctx.reply(`sunny in ${ctx.params.city} (${ctx.params.units ?? "metric"})`));
  cmds.command("deploy", { description: "Deploy", tags: ["admin"] }, async (ctx) => {
    const step = adhocStep(ctx);
    if (step && !step.values.has("confirm")) return step.ask([{ name: "confirm", type: "boolean" }], "Really deploy?");
    await ctx.reply(step?.values.get("confirm") === "0" ? "not deployed" : "deployed");
  });
  cmds.guard(access({ admins: [`boss@${prosody.domain}`] }).guard);
  const bot = new Bot({ name: "adhocbot" });
  bot.install(cmds, adhoc(cmds));
  const started = await startPasswordRuntime(bot, prosody, "adhocbot", PW);
  runtime = started.runtime;
  botJid = started.transport.jid!;
  boss = client(`boss@${prosody.domain}`, prosody.c2sPort);
  guest = client(`guest@${prosody.domain}`, prosody.c2sPort);
  await Promise.all([boss.online(), guest.online()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([boss?.stop(), guest?.stop()]);
  await runtime?.stop();
  await prosody?.stop();
});

describe("ad-hoc commands with slixmpp's xep_0050 on real Prosody", () => {
  it("lists the router's commands", async () => {
    const items = (await guest.ask({ cmd: "list", jid: botJid })).items as string[][];
    expect(items.sort((a, b) => a[1]!.localeCompare(b[1]!))).toEqual([ // slixmpp keeps items in a set
      [botJid, "deploy", "Deploy"],
      [botJid, "help", "List commands, or explain one"],
      [botJid, "ping", "Answer pong"],
      [botJid, "weather", "Weather for a city"],
    ]);
  });

  it("executes: no arguments completes at once; typed arguments come as a form, and the submitted form runs the command", async () => {
    expect(await run(guest, "ping")).toMatchObject([{ status: "completed", notes: [["info", "pong"]] }]);
    const [form, done] = await run(guest, "weather", { values: { city: "New York", units: "imperial" } });
    expect(form).toMatchObject({ status: "executing", fields: [["city", "text-single", true, []], ["units", "list-single", false, ["metric", "imperial"]]] });
    expect(done).toMatchObject({ status: "completed", sessionid: form!.sessionid, notes: [["info", "sunny in New York (imperial)"]] });
  });

  it("a refused user gets forbidden with the access-control text; the admin runs it", async () => {
    const [refused] = await run(guest, "deploy");
    expect(refused).toMatchObject({ error: "forbidden" });
    expect(refused!.text).toMatch(/not allowed/);
    // A two-step command: execute answers a form at once (no arguments, but the handler asks), then completes.
    const [ask, done] = await run(boss, "deploy", { values: { confirm: "1" } });
    expect(ask).toMatchObject({ status: "executing", fields: [["confirm", "boolean", true, []]] });
    expect(done).toMatchObject({ status: "completed", sessionid: ask!.sessionid, notes: [["info", "deployed"]] });
  });

  it("a cancelled session ends canceled and the command does not run", async () => {
    const [form, cancelled] = await run(boss, "weather", { cancel: true });
    expect(form!.status).toBe("executing");
    expect(cancelled).toMatchObject({ status: "canceled", sessionid: form!.sessionid, notes: [] });
  });
});
