// The notes bot and its storage: long user names, failed writes, the per-user reminder cap, and per-user reminder files.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHarness } from "@botrun/core/testing";
import { memoryStorage, type StorageAdapter } from "@botrun/plugins";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createNotesBot, type NotesSession } from "./bot.ts";
import type { Reminder } from "./reminders.ts";

afterEach(() => {
  vi.useRealTimers();
});

/** Memory storage that records every write (key and entry count) and can be told to fail. */
function recording<T>() {
  const inner = memoryStorage<T>();
  const writes: { key: string; size: number }[] = [];
  const s = {
    fail: false,
    writes,
    inner,
    read: (key: string) => inner.read(key),
    write(key: string, value: T) {
      if (s.fail) return Promise.reject(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }));
      writes.push({ key, size: Array.isArray(value) ? value.length : 1 });
      inner.write(key, value);
      return Promise.resolve();
    },
    delete: (key: string) => inner.delete(key),
  } satisfies StorageAdapter<T> & Record<string, unknown>;
  return s;
}

describe("notes bot storage", () => {
  it("keeps notes of a user with a 200-character local part (the file name is a hash)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "notes-long-"));
    const user = `${"a".repeat(200)}@botrun.test/pc`;
    try {
      const t1 = await createHarness(createNotesBot({ dir }));
      await t1.message(user, "!note long names work");
      await t1.message(user, "!remind 1h tea");
      expect(t1.replies()).toEqual(["Noted (#1).", "OK, I'll remind you in 1h."]);
      await t1.stop();
      const t2 = await createHarness(createNotesBot({ dir }));
      await t2.message(user, "!notes");
      await t2.message(user, "!reminders");
      expect(t2.replies()).toEqual(["1. long names work", "in 1h: tea"]);
      await t2.stop();
      for (const name of [...(await readdir(dir)), ...(await readdir(join(dir, "reminders")))]) expect(name.length).toBeLessThan(200);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("never says Noted when the note could not be stored", async () => {
    const storage = recording<NotesSession>();
    const reminderStorage = recording<Reminder[] | string[]>();
    const t = await createHarness(createNotesBot({ storage, reminderStorage }));
    await t.say("!note kept");
    storage.fail = true;
    reminderStorage.fail = true;
    await t.say("!note lost");
    await t.say("!forget 1");
    await t.say("!remind 10m lost too");
    storage.fail = false;
    await t.say("!notes");
    await t.say("!reminders");
    expect(t.replies()).toEqual([
      "Noted (#1).",
      "Sorry, I could not save your note; please try again later.",
      "Sorry, I could not save that change; please try again later.",
      "Sorry, I could not save the reminder; please try again later.",
      "1. kept",
      "No pending reminders.",
    ]);
    await t.stop();
  });

  it("caps pending reminders per user with a clear reply", async () => {
    const t = await createHarness(createNotesBot({ maxRemindersPerUser: 3 }));
    for (let i = 1; i <= 4; i++) await t.say(`!remind ${i}h r${i}`);
    await t.message("bob@botrun.test/pc", "!remind 1h mine");
    expect(t.replies().slice(3)).toEqual([
      "You already have 3 pending reminders, the most I keep for one person. Wait for some to come due.",
      "OK, I'll remind you in 1h.",
    ]);
    await t.stop();
  });

  it("adding a reminder rewrites only that user's list, not all 20,000 reminders", async () => {
    const reminderStorage = recording<Reminder[] | string[]>();
    const users = Array.from({ length: 200 }, (_, u) => `user:u${u}@botrun.test`);
    let id = 1;
    for (const user of users) {
      const list = Array.from({ length: 100 }, (_, i) => ({ id: id++, user, to: user.slice(5), type: "chat" as const, text: `r${i}`, due: Date.now() + 86_400_000 + i }));
      reminderStorage.inner.write(`reminders:${user}`, list);
    }
    reminderStorage.inner.write("reminders-index", users);
    const t = await createHarness(createNotesBot({ reminderStorage, maxRemindersPerUser: 200 }));
    await t.message("u7@botrun.test/pc", "!remind 10m stretch");
    await t.say("!remind 10m first of alice");
    await t.say("!remind 20m second of alice");
    expect(reminderStorage.writes).toEqual([
      { key: "reminders:user:u7@botrun.test", size: 101 },
      { key: "reminders:user:alice@botrun.test", size: 1 },
      { key: "reminders-index", size: 201 }, // once, for a user's first reminder
      { key: "reminders:user:alice@botrun.test", size: 2 },
    ]);
    await t.stop();
  });

  it("moves reminders stored in the old single list to per-user entries", async () => {
    const reminderStorage = recording<Reminder[] | string[]>();
    const due = Date.now() + 3_600_000;
    reminderStorage.inner.write("reminders", [
      { id: 4, user: "user:alice@botrun.test", to: "alice@botrun.test", type: "chat", text: "old one", due },
      { id: 9, user: "user:bob@botrun.test", to: "bob@botrun.test", type: "chat", text: "bob's", due },
    ]);
    const t = await createHarness(createNotesBot({ reminderStorage }));
    await t.say("!reminders");
    await t.say("!remind 2h new one");
    expect(t.replies()).toEqual(["in 1h: old one", "OK, I'll remind you in 2h."]);
    expect(reminderStorage.inner.read("reminders")).toBeUndefined();
    expect(reminderStorage.inner.read("reminders-index")).toEqual(["user:alice@botrun.test", "user:bob@botrun.test"]);
    expect((reminderStorage.inner.read("reminders:user:alice@botrun.test") as Reminder[]).map((r) => r.id)).toEqual([4, 10]);
    await t.stop();
  });
});
