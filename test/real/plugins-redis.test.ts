// The session plugin on a real Redis: redis-server on 127.0.0.1 with a free port, no persistence.
import { Bot, type Context } from "@botrun/core";
import { createHarness } from "@botrun/core/testing";
import { redisStorage, session, type RedisStorage, type SessionFlavor } from "@botrun/plugins";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedis, type RedisServer } from "../env/redis.ts";

type S = { count: number };
type Ctx = Context & SessionFlavor<S>;

let server: RedisServer | undefined;
let admin: RedisStorage<S>; // owns the raw client used for assertions
let client: RedisStorage<S>["client"];

beforeAll(async () => {
  server = await startRedis();
  admin = redisStorage<S>({ url: server.url, redis: { maxRetriesPerRequest: 2 } });
  client = admin.client;
});

afterAll(async () => {
  await admin?.close().catch(() => undefined);
  await server?.stop();
});

function counterBot(storage: RedisStorage<S>) {
  const bot = new Bot<Ctx>({ name: "counter" });
  bot.install(session<S, Ctx>({ initial: () => ({ count: 0 }), storage }));
  bot.command("peek", (ctx) => ctx.reply(`count is ${ctx.session.count}`));
  bot.on("message:body", (ctx) => {
    ctx.session.count++;
  });
  return bot;
}

describe("session on real Redis", () => {
  it("stores, reloads across bot instances, and keeps 100 concurrent updates", async () => {
    const storage = redisStorage<S>({ client, prefix: "t1:" });
    const t = await createHarness(counterBot(storage));
    const { xml } = await import("@botrun/core");
    for (let i = 0; i < 100; i++) {
      t.transport.receive(xml("message", { from: "alice@botrun.test/x", to: "bot@botrun.test/test", type: "chat" }, xml("body", {}, `m${i}`)));
    }
    await t.settle();
    expect(JSON.parse((await client.get("t1:chat:alice@botrun.test"))!)).toEqual({ count: 100 });
    await t.stop();

    const t2 = await createHarness(counterBot(redisStorage<S>({ client, prefix: "t1:" })));
    await t2.say("!peek");
    expect(t2.lastReply()).toBe("count is 100");
  });

  it("sets a TTL when asked and deletes keys", async () => {
    const storage = redisStorage<S>({ client, prefix: "t2:", ttlSeconds: 60 });
    await storage.write("k", { count: 1 });
    const ttl = await client.ttl("t2:k");
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    await storage.delete("k");
    expect(await storage.read("k")).toBeUndefined();
  });

  it("creates and closes its own client from a URL", async () => {
    const storage = redisStorage<S>({ url: server!.url, prefix: "t3:" });
    await storage.write("k", { count: 7 });
    expect(await storage.read("k")).toEqual({ count: 7 });
    await storage.close();
    expect(storage.client.status).toBe("end");
  });
});
