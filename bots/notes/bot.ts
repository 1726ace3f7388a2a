// The notes bot: keeps a list of notes per user and sends reminders.
// Uses the commands router, per-user sessions (in memory, or files when NOTES_DIR is set)
// and the scheduler. With NOTES_DIR, reminders are kept in a file too and rescheduled when
// the bot starts again, so they survive a restart (see reminders.ts). A note or reminder is
// confirmed only once it is stored; a failed write gets an apology, never "Noted". At most 100 notes
// of 1000 characters per user, and 100 pending reminders.
import { join } from "node:path";
import { Bot, type Context } from "@botrun/core";
import { adhoc, commands, fileStorage, memoryStorage, saveSession, scheduler, session, sessionKeyOf, type SessionFlavor, type StorageAdapter } from "@botrun/plugins";
import { formatDuration, parseDuration } from "./duration.ts";
import { ReminderBook, TooManyRemindersError, type Reminder } from "./reminders.ts";

/** What the bot remembers for each user. */
export interface NotesSession {
  notes: string[];
}
type Ctx = Context & SessionFlavor<NotesSession>;

/** Bounds: a note's length and how many one user keeps, so that `!notes` (all in one reply) stays far below a server's stanza limit. */
const MAX_NOTE_CHARS = 1000;
const MAX_NOTES = 100;

/** Options of the notes bot. */
export interface NotesBotOptions {
  /** Keep sessions (one file per user) and reminders (`dir/reminders`) in files. */
  dir?: string;
  /** Most pending reminders per user (default 100). */
  maxRemindersPerUser?: number;
  /** Where notes and reminders are kept, instead of `dir` or memory (tests inject failing or counting storage). */
  storage?: StorageAdapter<NotesSession>;
  reminderStorage?: StorageAdapter<Reminder[] | string[]>;
}

/** Build a notes bot. */
export function createNotesBot(opts: NotesBotOptions = {}): Bot<Ctx> {
  const bot = new Bot<Ctx>({ name: "notes", description: "Keeps notes and reminders for you" });
  const sched = scheduler();
  const cmds = commands<Ctx>();
  const storage = opts.storage ?? (opts.dir ? fileStorage<NotesSession>(opts.dir) : memoryStorage<NotesSession>());
  const remindersDir = opts.dir ? join(opts.dir, "reminders") : undefined;
  const reminderStorage = opts.reminderStorage ?? (remindersDir ? fileStorage(remindersDir) : memoryStorage());
  const book = new ReminderBook(reminderStorage, sched, { maxPerUser: opts.maxRemindersPerUser });
  /** Store the session now; false (after an apology) when the write failed. */
  const saved = async (ctx: Ctx, what: string): Promise<boolean> => {
    try {
      await saveSession(ctx);
      return true;
    } catch (error) {
      ctx.log.error("could not save notes", { error });
      await ctx.reply(`Sorry, I could not save ${what}; please try again later.`);
      return false;
    }
  };
  bot.install(session<NotesSession, Ctx>({ initial: () => ({ notes: [] }), storage, key: "user" }), cmds, adhoc(cmds), sched, book.plugin);

  cmds.command("note", { description: "Save a note", aliases: ["add"], args: [{ name: "text", type: "rest" }] as const }, async (ctx) => {
    if (ctx.params.text.length > MAX_NOTE_CHARS) return ctx.reply(`A note can have at most ${MAX_NOTE_CHARS} characters; that one has ${ctx.params.text.length}.`);
    if (ctx.session.notes.length >= MAX_NOTES) return ctx.reply(`You have ${MAX_NOTES} notes, the most I keep; \`!forget\` some first.`);
    ctx.session.notes.push(ctx.params.text);
    if (!(await saved(ctx, "your note"))) {
      ctx.session.notes.pop(); // not kept: nothing to write after the handler either
      return;
    }
    return ctx.reply(`Noted (#${ctx.session.notes.length}).`);
  });

  cmds.command("notes", { description: "List your notes", aliases: ["list"] }, (ctx) => {
    const { notes } = ctx.session;
    return ctx.reply(notes.length ? notes.map((n, i) => `${i + 1}. ${n}`).join("\n") : "You have no notes. Add one with `!note <text>`.");
  });

  cmds.command("forget", { description: "Delete a note by its number", args: [{ name: "number", type: "integer" }] as const }, async (ctx) => {
    const i = ctx.params.number - 1;
    const { notes } = ctx.session;
    if (i < 0 || i >= notes.length) return ctx.reply(notes.length ? `Pick a number from 1 to ${notes.length}.` : "You have no notes.");
    const [gone] = notes.splice(i, 1);
    if (!(await saved(ctx, "that change"))) {
      notes.splice(i, 0, gone!);
      return;
    }
    return ctx.reply(`Forgot "${gone}".`);
  });

  cmds.command(
    "remind",
    { description: "Remind you later, e.g. `!remind 10m call Bob`", args: [{ name: "in", type: "string" }, { name: "text", type: "rest" }] as const },
    async (ctx) => {
      const ms = parseDuration(ctx.params.in);
      if (ms === undefined) return ctx.reply(`"${ctx.params.in}" is not a duration: try 90s, 10m, 2h or 1h30m (at most 30 days).`);
      if (ctx.params.text.length > MAX_NOTE_CHARS) return ctx.reply(`A reminder can have at most ${MAX_NOTE_CHARS} characters; that one has ${ctx.params.text.length}.`);
      const user = sessionKeyOf(ctx, "user") ?? ctx.chat;
      try {
        await book.add({ user, to: ctx.chat, type: ctx.room ? "groupchat" : "chat", text: ctx.params.text, due: Date.now() + ms });
      } catch (error) {
        if (error instanceof TooManyRemindersError) {
          return ctx.reply(`You already have ${error.max} pending reminders, the most I keep for one person. Wait for some to come due.`);
        }
        ctx.log.error("could not save a reminder", { error });
        return ctx.reply("Sorry, I could not save the reminder; please try again later.");
      }
      return ctx.reply(`OK, I'll remind you in ${formatDuration(ms)}.`);
    },
  );

  cmds.command("reminders", { description: "List your pending reminders" }, (ctx) => {
    const now = Date.now();
    const list = book.forUser(sessionKeyOf(ctx, "user") ?? ctx.chat);
    return ctx.reply(list.length ? list.map((r) => `in ${formatDuration(r.due - now)}: ${r.text}`).join("\n") : "No pending reminders.");
  });

  // Anything else said in private gets a hint (prefixed typos get "did you mean" from the router).
  bot.on("message:chat:body", (ctx) =>
    bot.commandPrefixes.some((p) => ctx.text.trimStart().startsWith(p)) ? undefined : ctx.reply("I keep notes and reminders. Say `help` to see how."),
  );
  return bot;
}

export default createNotesBot({ dir: process.env.NOTES_DIR || undefined });
