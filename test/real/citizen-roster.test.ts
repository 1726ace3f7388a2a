// The roster on a real Prosody with slixmpp as the contact (test/env/roster-client.py): the bot fetches its
// roster on every new session (XEP-0237 version on the second), acknowledges and applies roster pushes, and a
// contact who subscribes, removes the bot and adds it again ends with `both` on both sides. The bot runs
// in-process on botrun's XMPP transport; a Prosody restart gives it a new session (no XEP-0198 resumption).
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Bot, BotRuntime, createXmppTransport, loadConfig, NS, rosterOf, silentLogger, type Element, type RosterView } from "@botrun/core";
import { roster } from "@botrun/plugins";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopChild } from "../env/proc.ts";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "../env/roster-client.py");

type ContactEvent =
  | { event: "online"; jid: string }
  | { event: "push"; jid: string; subscription: string; ask: boolean }
  | { event: "presence"; type: string; from: string }
  | { event: "roster"; items: Record<string, { subscription: string; ask: boolean }> }
  | { event: "error"; condition: string };

/** The slixmpp contact: its events, a way to wait for one, and its commands. */
function startContact(prosody: ProsodyHandle, user: string, password: string) {
  const child: ChildProcess = spawn("/usr/bin/python3", [SCRIPT, "--jid", `${user}@${prosody.domain}/roster`, "--port", String(prosody.c2sPort), "--ca", prosody.caFile], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, PEER_PASSWORD: password, PYTHONUNBUFFERED: "1" },
  });
  const events: ContactEvent[] = [];
  const wake = new Set<() => void>();
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => void (stderr.length < 4096 && (stderr += b.toString())));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      events.push(JSON.parse(line) as ContactEvent);
    } catch {
      return;
    }
    for (const w of [...wake]) w();
  });
  child.on("exit", () => [...wake].forEach((w) => w()));
  return {
    events,
    /** The first event from index `from` on that matches. */
    waitFor<T extends ContactEvent>(pred: (e: ContactEvent) => e is T, what: string, from = 0, ms = 20_000): Promise<T> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.slice(from).find(pred);
          if (found) return done(() => resolve(found));
          if (child.exitCode !== null) done(() => reject(new Error(`contact exited before ${what}: ${stderr.slice(-600)}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${what}; last events ${JSON.stringify(events.slice(-6))}`))), ms);
        const done = (f: () => void) => {
          clearTimeout(timer);
          wake.delete(check);
          f();
        };
        wake.add(check);
        check();
      });
    },
    command: (cmd: Record<string, string>) => void child.stdin?.write(`${JSON.stringify(cmd)}\n`),
    stop: () => stopChild(child, 3000),
  };
}

let prosody: ProsodyHandle;
let runtime: BotRuntime | undefined;
let contact: ReturnType<typeof startContact>;
let view: RosterView;
const gets: string[] = []; // the bot's roster gets, as sent
const acks: string[] = []; // ids of the iq results the bot sent
const sessions: string[] = [];
const botJid = () => `rosterbot@${prosody.domain}`;
const danaJid = () => `dana@${prosody.domain}`;

/** Wait until `cond` holds, re-checking whenever the bot's roster changes (bounded). */
function untilRoster(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!cond()) return;
      clearTimeout(timer);
      view.off("change", check);
      view.off("loaded", check);
      resolve();
    };
    const timer = setTimeout(() => {
      view.off("change", check);
      view.off("loaded", check);
      reject(new Error(`timed out waiting for ${what}; roster ${JSON.stringify(view.items())}`));
    }, ms);
    view.on("change", check);
    view.on("loaded", check);
    check();
  });
}

const isPush = (jid: string, sub: string, ask?: boolean) => (e: ContactEvent): e is Extract<ContactEvent, { event: "push" }> =>
  e.event === "push" && e.jid === jid && e.subscription === sub && (ask === undefined || e.ask === ask);

beforeAll(async () => {
  prosody = await startProsody();
  await prosody.register("rosterbot", "roster-bot-pw");
  await prosody.register("dana", "dana-pw-1");
  const bot = new Bot({ name: "rosterbot" });
  bot.install(roster({ subscriptions: "accept-all" }));
  const config = loadConfig({
    XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
    XMPP_DOMAIN: prosody.domain,
    XMPP_CA_FILE: prosody.caFile,
    XMPP_USERNAME: "rosterbot",
    XMPP_PASSWORD: "roster-bot-pw",
    XMPP_RECONNECT_BASE_DELAY: "0.1",
    XMPP_RECONNECT_MAX_DELAY: "0.5",
  })!;
  const transport = createXmppTransport({ config, logger: silentLogger });
  transport.on("online", ({ jid }) => void sessions.push(jid));
  runtime = new BotRuntime(bot, transport, { logger: silentLogger });
  runtime.on("sent", (el: Element) => {
    const q = el.name === "iq" && el.attrs.type === "get" ? el.getChild("query", NS.roster) : undefined;
    if (q) gets.push(q.toString());
    if (el.name === "iq" && el.attrs.type === "result") acks.push(String(el.attrs.id));
  });
  await runtime.start();
  view = rosterOf(runtime.api)!;
  await untilRoster(() => view.loaded, "the first roster result");
  contact = startContact(prosody, "dana", "dana-pw-1");
  await contact.waitFor((e): e is Extract<ContactEvent, { event: "online" }> => e.event === "online", "the contact online");
}, 60_000);

afterAll(async () => {
  await contact?.stop();
  await runtime?.stop();
  await prosody?.stop();
});

describe("the roster on real Prosody, with slixmpp as the contact", () => {
  it("is fetched at login, with ver=\"\" the first time (Prosody advertises versioning; RFC 6121 §2.6.2)", () => {
    expect(gets).toEqual([`<query xmlns="${NS.roster}" ver=""/>`]);
    expect(view.size).toBe(0);
    expect(view.ver).toBeDefined(); // Prosody 0.12 versions the roster (XEP-0237)
  });

  it("subscribe, remove, re-add: both sides end with `both`, from the server's roster pushes", async () => {
    const pushesBefore = acks.length;
    let mark = contact.events.length;
    contact.command({ cmd: "subscribe", to: botJid() });
    await untilRoster(() => view.get(danaJid())?.subscription === "both", "the bot's roster: dana both");
    await contact.waitFor(isPush(botJid(), "both"), "dana's roster: the bot both", mark);
    expect(acks.length).toBeGreaterThan(pushesBefore); // the bot answered the server's pushes

    mark = contact.events.length;
    contact.command({ cmd: "remove", jid: botJid() });
    await contact.waitFor(isPush(botJid(), "remove"), "dana's roster: the bot removed", mark);
    await untilRoster(() => (view.get(danaJid())?.subscription ?? "none") === "none", "the bot's roster: dana none");

    mark = contact.events.length;
    contact.command({ cmd: "subscribe", to: botJid() });
    // The bot subscribes back although it did so before in this session: its roster says it sees nothing of dana.
    await contact.waitFor((e): e is Extract<ContactEvent, { event: "presence" }> => e.event === "presence" && e.type === "subscribe" && e.from.startsWith(botJid()), "the bot's subscribe", mark);
    await untilRoster(() => view.get(danaJid())?.subscription === "both" && !view.get(danaJid())?.ask, "the bot's roster: dana both again");
    await contact.waitFor(isPush(botJid(), "both"), "dana's roster: the bot both again", mark);
    mark = contact.events.length;
    contact.command({ cmd: "roster" });
    const r = await contact.waitFor((e): e is Extract<ContactEvent, { event: "roster" }> => e.event === "roster", "dana's roster", mark);
    expect(r.items[botJid()]).toEqual({ subscription: "both", ask: false });
  }, 60_000);

  it("unsubscribe, then subscribe again: the bot's view follows (both -> to -> both) and it approves the new request", async () => {
    let mark = contact.events.length;
    contact.command({ cmd: "unsubscribe", to: botJid() });
    // RFC 6121 §3.3: dana no longer receives the bot's presence; the bot still has a subscription to dana.
    await untilRoster(() => view.get(danaJid())?.subscription === "to", "the bot's roster: dana to");
    await contact.waitFor(isPush(botJid(), "from"), "dana's roster: the bot from", mark);
    mark = contact.events.length;
    contact.command({ cmd: "subscribe", to: botJid() });
    await untilRoster(() => view.get(danaJid())?.subscription === "both", "the bot's roster: dana both after resubscribing");
    await contact.waitFor(isPush(botJid(), "both"), "dana's roster: the bot both after resubscribing", mark);
  }, 60_000);

  it("is fetched again on a new session, with the version it has, and stays right", async () => {
    const ver = view.ver;
    const before = sessions.length;
    const results: boolean[] = []; // `unchanged` of each roster result from now on
    view.on("loaded", ({ unchanged }) => void results.push(unchanged));
    await prosody.restart(); // the server forgot every session: resumption fails, a new session starts
    await untilRoster(() => sessions.length > before && results.length > 0, "a new session's roster result", 30_000);
    expect(gets[1]).toBe(`<query xmlns="${NS.roster}" ver="${ver}"/>`);
    expect(results).toEqual([true]); // XEP-0237: an empty result, "unchanged since your version"
    expect(view.get(danaJid())?.subscription).toBe("both");
  }, 60_000);
});
