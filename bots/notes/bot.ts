// The notes bot: keeps a list of notes per user and sends reminders.
// Uses the commands router, per-user sessions (in memory, or files when NOTES_DIR is set)
// and the scheduler. Reminders live in memory: they are lost if the bot restarts.
import { Bot, type Context } from "@botrun/core";
import { commands, fileStorage, memoryStorage, scheduler, session, type SessionFlavor } from "@botrun/plugins";
import { formatDuration, parseDuration } from "./duration.ts";

/** What the bot remembers for each user. */
export interface NotesSession {
  notes: string[];
  reminders: Array<{ id: number; text: string; due: number }>;
  nextId: number;
}
type Ctx = Context & SessionFlavor<NotesSession>;

/** Build a notes bot; `dir` switches sessions to files (one per user). */
export function createNotesBot(opts: { dir?: string } = {}): Bot<Ctx> {
  const bot = new Bot<Ctx>({ name: "notes", description: "Keeps notes and reminders for you" });
  const sched = scheduler();
  const cmds = commands<Ctx>();
  const storage = opts.dir ? fileStorage<NotesSession>(opts.dir) : memoryStorage<NotesSession>();
  bot.install(session<NotesSession, Ctx>({ initial: () => ({ notes: [], reminders: [], nextId: 1 }), storage, key: "user" }), cmds, sched);

  cmds.command("note", { description: "Save a note", aliases: ["add"], args: [{ name: "text", type: "rest" }] as const }, (ctx) => {
    ctx.session.notes.push(ctx.params.text);
    return ctx.reply(`Noted (#${ctx.session.notes.length}).`);
  });

  cmds.command("notes", { description: "List your notes", aliases: ["list"] }, (ctx) => {
    const { notes } = ctx.session;
    return ctx.reply(notes.length ? notes.map((n, i) => `${i + 1}. ${n}`).join("\n") : "You have no notes. Add one with `!note <text>`.");
  });

  cmds.command("forget", { description: "Delete a note by its number", args: [{ name: "number", type: "integer" }] as const }, (ctx) => {
    const i = ctx.params.number - 1;
    const { notes } = ctx.session;
    if (i < 0 || i >= notes.length) return ctx.reply(notes.length ? `Pick a number from 1 to ${notes.length}.` : "You have no notes.");
    const [gone] = notes.splice(i, 1);
    return ctx.reply(`Forgot "${gone}".`);
  });

  cmds.command(
    "remind",
    { description: "Remind you later, e.g. `!remind 10m call Bob`", args: [{ name: "in", type: "string" }, { name: "text", type: "rest" }] as const },
    (ctx) => {
      const ms = parseDuration(ctx.params.in);
      if (ms === undefined) return ctx.reply(`"${ctx.params.in}" is not a duration: try 90s, 10m, 2h or 1h30m (at most 30 days).`);
      const s = ctx.session;
      const id = s.nextId++;
      const due = Date.now() + ms;
      const to = ctx.chat;
      const { text } = ctx.params;
      s.reminders = s.reminders.filter((r) => r.due > Date.now());
      s.reminders.push({ id, text, due });
      sched.at(new Date(due), `remind:${to}:${id}`, (job) => job.say(to, `⏰ Reminder: ${text}`, ctx.room ? "groupchat" : "chat"));
      return ctx.reply(`OK, I'll remind you in ${formatDuration(ms)}.`);
    },
  );

  cmds.command("reminders", { description: "List your pending reminders" }, (ctx) => {
    const now = Date.now();
    const list = ctx.session.reminders.filter((r) => r.due > now);
    ctx.session.reminders = list;
    return ctx.reply(list.length ? list.map((r) => `in ${formatDuration(r.due - now)}: ${r.text}`).join("\n") : "No pending reminders.");
  });

  // Anything else said in private gets a hint (prefixed typos get "did you mean" from the router).
  bot.on("message:chat:body", (ctx) =>
    bot.commandPrefixes.some((p) => ctx.text.trimStart().startsWith(p)) ? undefined : ctx.reply("I keep notes and reminders. Say `help` to see how."),
  );
  return bot;
}

export default createNotesBot({ dir: process.env.NOTES_DIR || undefined });
