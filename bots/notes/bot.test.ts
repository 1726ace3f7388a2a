// How the notes bot behaves, written with botrun's offline test kit.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHarness } from "@botrun/core/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createNotesBot } from "./bot.ts";
import { formatDuration, parseDuration } from "./duration.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("notes bot", () => {
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
