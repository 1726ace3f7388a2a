// Sessions: per-chat / per-user state, loaded before and saved after the handler, never racing.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Bot, xml, type Context } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { fileStorage, memoryStorage, saveSession, session, type SessionFlavor, type StorageAdapter } from "./index.ts";

type S = { count: number };
type Ctx = Context & SessionFlavor<S>;

/** A storage that answers slowly (a macrotask per call), to widen any race window. */
class SlowCountingStorage<T> implements StorageAdapter<T> {
  readonly inner = memoryStorage<T>();
  writes = 0;
  async read(key: string) {
    await new Promise((r) => setImmediate(r));
    return this.inner.read(key);
  }
  async write(key: string, value: T) {
    await new Promise((r) => setImmediate(r));
    this.writes++;
    this.inner.write(key, value);
  }
  async delete(key: string) {
    this.inner.delete(key);
  }
}

function counterBot(storage: StorageAdapter<S>, key: "chat" | "user" = "chat") {
  const bot = new Bot<Ctx>({ name: "counter" });
  bot.install(session<S, Ctx>({ initial: () => ({ count: 0 }), storage, key }));
  bot.command("reset", (ctx) => {
    (ctx as { session: S | undefined }).session = undefined;
    return ctx.reply("reset");
  });
  bot.command("peek", (ctx) => ctx.reply(`count is ${ctx.session.count}`));
  bot.on("message:body", async (ctx) => {
    const n = ctx.session.count;
    await new Promise((r) => setImmediate(r));
    ctx.session.count = n + 1;
  });
  return bot;
}

const chat = (from: string, text: string) =>
  xml("message", { from, to: "bot@botrun.test/test", type: "chat" }, xml("body", {}, text));

let dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  dirs = [];
});

describe("session plugin", () => {
  it("counts 200 concurrent messages from one chat without losing an update", async () => {
    const storage = new SlowCountingStorage<S>();
    const t = await createHarness(counterBot(storage));
    for (let i = 0; i < 200; i++) t.transport.receive(chat(`alice@botrun.test/r${i % 3}`, `m${i}`));
    await t.settle();
    expect(storage.inner.read("chat:alice@botrun.test")).toEqual({ count: 200 });
  });

  it("keeps a per-user session consistent across chats (one user, a chat and a room PM at once)", async () => {
    const storage = new SlowCountingStorage<S>();
    const bot = new Bot<Ctx>({ name: "counter" });
    bot.install(session<S, Ctx>({ initial: () => ({ count: 0 }), storage, key: (ctx) => "user:everyone" }));
    bot.on("message:body", async (ctx) => {
      const n = ctx.session.count;
      await new Promise((r) => setImmediate(r));
      ctx.session.count = n + 1;
    });
    const t = await createHarness(bot);
    for (let i = 0; i < 60; i++) t.transport.receive(chat(`user${i % 6}@botrun.test/x`, "hi"));
    await t.settle();
    expect(storage.inner.read("user:everyone")).toEqual({ count: 60 });
  });

  it("separates chats and saves only when the value changed", async () => {
    const storage = new SlowCountingStorage<S>();
    const t = await createHarness(counterBot(storage));
    await t.message("alice@botrun.test/a", "one");
    await t.message("bob@botrun.test/a", "one");
    await t.message("alice@botrun.test/a", "two");
    expect(storage.writes).toBe(3);
    await t.message("alice@botrun.test/a", "!peek");
    expect(t.lastReply()).toBe("count is 2");
    expect(storage.writes).toBe(3); // reading did not write
    await t.message("carol@botrun.test/a", "!peek"); // fresh session, untouched: nothing stored
    expect(storage.inner.size).toBe(2);
  });

  it("deletes the session when the handler sets it to undefined", async () => {
    const storage = memoryStorage<S>();
    const t = await createHarness(counterBot(storage));
    await t.say("x");
    expect(storage.size).toBe(1);
    await t.say("!reset");
    expect(storage.size).toBe(0);
    await t.say("!peek");
    expect(t.lastReply()).toBe("count is 0");
  });

  it("per-user key in a room uses the occupant (or real JID when known)", async () => {
    const storage = memoryStorage<S>();
    const t = await createHarness(counterBot(storage, "user"));
    await t.joinRoom("r@conference.botrun.test", "counter");
    await t.groupchat("r@conference.botrun.test", "carol", "hi");
    expect(storage.read("user:r@conference.botrun.test/carol")).toEqual({ count: 1 });
  });

  it("file storage persists across bot restarts, atomically and with mode 0600", async () => {
    const dir = await mkdtemp(join(tmpdir(), "botrun-session-"));
    dirs.push(dir);
    const t1 = await createHarness(counterBot(fileStorage<S>(dir)));
    await t1.say("a");
    await t1.say("b");
    await t1.stop();
    const t2 = await createHarness(counterBot(fileStorage<S>(dir)));
    await t2.say("!peek");
    expect(t2.lastReply()).toBe("count is 2");
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.json$/); // no temp files left behind
    expect((await stat(join(dir, files[0]!))).mode & 0o777).toBe(0o600);
  });

  it("file storage hashes long keys into short file names, and saveSession writes before the reply", async () => {
    const dir = await mkdtemp(join(tmpdir(), "session-long-"));
    try {
      const fs = fileStorage<string[]>(dir);
      const [a, b] = [`user:${"a".repeat(300)}@x.test`, `user:${"a".repeat(299)}b@x.test`];
      await fs.write(a, ["one"]);
      await fs.write(b, ["two"]);
      expect([await fs.read(a), await fs.read(b)]).toEqual([["one"], ["two"]]);
      expect((await readdir(dir)).every((n) => n.startsWith("~") && n.length < 80)).toBe(true);
      expect(fs.pathOf("user:short@x.test")).toBe(join(dir, `${Buffer.from("user:short@x.test").toString("base64url")}.json`));

      const bot = new Bot<Context & SessionFlavor<string[]>>({ name: "s" });
      bot.install(session<string[], Context & SessionFlavor<string[]>>({ initial: () => [], storage: fs, key: "user" }));
      bot.on("message:body", async (ctx) => {
        ctx.session.push(ctx.text);
        await saveSession(ctx);
        await ctx.reply(`stored: ${JSON.stringify(await fs.read(`user:${"a".repeat(300)}@x.test`))}`);
      });
      const t = await createHarness(bot);
      await t.message(`${"a".repeat(300)}@x.test/pc`, "three");
      expect(t.replies()).toEqual(['stored: ["one","three"]']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("file storage returns undefined for a missing key and deletes idempotently", async () => {
    const dir = await mkdtemp(join(tmpdir(), "botrun-session-"));
    dirs.push(dir);
    const fs = fileStorage<S>(join(dir, "sub"));
    expect(await fs.read("nope")).toBeUndefined();
    await fs.delete("nope");
    await fs.write("k/with:odd chars", { count: 3 });
    expect(await fs.read("k/with:odd chars")).toEqual({ count: 3 });
  });
});
