// How the notes bot behaves, written with botrun's offline test kit.
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { xml } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createNotesBot } from "./bot.ts";
import { formatDuration, parseDuration } from "./duration.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("notes bot", () => {
  it("takes a note from a client's ad-hoc command form (XEP-0050) as from the text command", async () => {
    const t = await createHarness(createNotesBot());
    const NS_CMD = "http://jabber.org/protocol/commands";
    const first = (await t.iq("set", xml("command", { xmlns: NS_CMD, node: "note", action: "execute" }))).getChild("command")!;
    expect(first.getChild("x", "jabber:x:data")!.getChildren("field").map((f) => f.attrs.var)).toEqual(["text"]);
    const submit = xml("x", { xmlns: "jabber:x:data", type: "submit" }, xml("field", { var: "text" }, xml("value", {}, "buy milk")));
    const done = (await t.iq("set", xml("command", { xmlns: NS_CMD, node: "note", sessionid: String(first.attrs.sessionid), action: "complete" }, submit))).getChild("command")!;
    expect(done.attrs.status).toBe("completed");
    expect(done.getChildText("note")).toBe("Noted (#1).");
    await t.say("!notes");
    expect(t.lastReply()).toBe("1. buy milk");
  });

  it("keeps a numbered list of notes for each user", async () => {
    const t = await createHarness(createNotesBot());
    await t.say("!note buy milk");
    await t.say("add call the plumber"); // bare command word and alias, in a private chat
    await t.say("!notes");
    t.expectTranscript([
      "alice: !note buy milk",
      "bot: Noted (#1).",
      "alice: add call the plumber",
      "bot: Noted (#2).",
      "alice: !notes",
      "bot: 1. buy milk\n2. call the plumber",
    ]);
    await t.message("bob@botrun.test/pc", "!notes");
    expect(t.lastReply()).toBe("You have no notes. Add one with `!note <text>`.");
  });

  it("forgets a note by number and explains bad numbers", async () => {
    const t = await createHarness(createNotesBot());
    await t.say("!note one");
    await t.say("!note two");
    await t.say("!forget 1");
    await t.say("!forget 5");
    await t.say("!forget first");
    await t.say("!notes");
    expect(t.replies().slice(2)).toEqual([
      'Forgot "one".',
      "Pick a number from 1 to 1.",
      '<number> must be a whole number, got "first". Usage: !forget <number>',
      "1. two",
    ]);
  });

  it("sends a reminder when it is due", async () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T08:00:00Z") });
    const t = await createHarness(createNotesBot());
    await t.say("!remind 10m stretch");
    await t.say("!reminders");
    expect(t.replies()).toEqual(["OK, I'll remind you in 10m.", "in 10m: stretch"]);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(t.lastReply()).toBe("⏰ Reminder: stretch");
    expect(t.sent.at(-1)!.attrs.to).toBe("alice@botrun.test");
    await t.say("!reminders");
    expect(t.lastReply()).toBe("No pending reminders.");
    await t.stop();
  });

  it("rejects durations it does not understand", async () => {
    const t = await createHarness(createNotesBot());
    await t.say("!remind soon stretch");
    await t.say("!remind 10m");
    expect(t.replies()).toEqual([
      '"soon" is not a duration: try 90s, 10m, 2h or 1h30m (at most 30 days).',
      "Missing <text>. Usage: !remind <in> <text…>",
    ]);
  });

  it("helps with typos and plain chat", async () => {
    const t = await createHarness(createNotesBot());
    await t.say("!ntoes");
    await t.say("hello?");
    expect(t.replies()).toEqual(["Unknown command `ntoes`. Did you mean `!notes`?", "I keep notes and reminders. Say `help` to see how."]);
    await t.say("help");
    expect(t.lastReply()).toContain("!remind <in> <text…> — Remind you later");
  });

  it("answers a 70,000-character unknown command with a short reply, refuses empty, huge and too many notes", async () => {
    const t = await createHarness(createNotesBot());
    await t.say(`!${">".repeat(70_000)}`);
    expect(t.lastReply()).toBe(`Unknown command \`${">".repeat(40)}…\`. Say \`!help\` for the list.`);
    await t.say("!note    ");
    expect(t.lastReply()).toBe("Missing <text>. Usage: !note <text…>");
    expect(t.replies().every((r) => r.trim().length > 0)).toBe(true);
    await t.say(`!note ${"x".repeat(1001)}`);
    expect(t.lastReply()).toBe("A note can have at most 1000 characters; that one has 1001.");
    await t.say(`!remind 1h ${"x".repeat(1001)}`);
    expect(t.lastReply()).toBe("A reminder can have at most 1000 characters; that one has 1001.");
    for (let i = 1; i <= 101; i++) await t.say(`!note n${i}`);
    expect(t.lastReply()).toBe("You have 100 notes, the most I keep; `!forget` some first.");
  });

  it("keeps notes in files across restarts when given a directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "notes-bot-"));
    try {
      const t1 = await createHarness(createNotesBot({ dir }));
      await t1.say("!note persistent");
      await t1.stop();
      const t2 = await createHarness(createNotesBot({ dir }));
      await t2.say("!notes");
      expect(t2.lastReply()).toBe("1. persistent");
      await t2.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps reminders across restarts when given a directory, sending missed ones on start", async () => {
    vi.useFakeTimers({ now: new Date("2030-01-01T08:00:00Z") });
    const dir = await mkdtemp(join(tmpdir(), "notes-bot-"));
    try {
      const t1 = await createHarness(createNotesBot({ dir }));
      await t1.say("!remind 10m stretch");
      await t1.say("!remind 1h lunch");
      await t1.message("bob@botrun.test/pc", "!remind 2h call alice");
      await t1.stop();
      await vi.advanceTimersByTimeAsync(5 * 60_000); // down for five minutes
      expect((await stat(join(dir, "reminders"))).mode & 0o077).toBe(0);

      const t2 = await createHarness(createNotesBot({ dir })); // a second instance over the same directory
      await t2.say("!reminders");
      expect(t2.lastReply()).toBe("in 5m: stretch\nin 55m: lunch");
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      expect(t2.lastReply()).toBe("⏰ Reminder: stretch");
      expect(t2.sent.at(-1)!.attrs.to).toBe("alice@botrun.test");
      expect(t1.replies().filter((r) => r.startsWith("⏰"))).toEqual([]); // the stopped instance sent nothing
      await t2.stop();

      await vi.advanceTimersByTimeAsync(60 * 60_000); // lunch comes due while the bot is down
      const t3 = await createHarness(createNotesBot({ dir }));
      await vi.advanceTimersByTimeAsync(0);
      await t3.settle();
      expect(t3.replies()).toEqual(["⏰ Reminder: lunch"]);
      await t3.say("!reminders");
      expect(t3.lastReply()).toBe("No pending reminders.");
      await t3.message("bob@botrun.test/pc", "!reminders");
      expect(t3.lastReply()).toBe("in 50m: call alice");
      await t3.stop();

      const t4 = await createHarness(createNotesBot({ dir })); // sent ones are not sent again
      await vi.advanceTimersByTimeAsync(0);
      await t4.settle();
      expect(t4.replies()).toEqual([]);
      await vi.advanceTimersByTimeAsync(50 * 60_000 - 1);
      expect(t4.replies()).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(t4.replies()).toEqual(["⏰ Reminder: call alice"]);
      expect(t4.sent.at(-1)!.attrs.to).toBe("bob@botrun.test");
      await t4.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("parses and prints durations", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("15")).toBe(900_000);
    expect(parseDuration("0m")).toBeUndefined();
    expect(parseDuration("31d")).toBeUndefined();
    expect(parseDuration("1x")).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe("1h 30m");
  });
});
