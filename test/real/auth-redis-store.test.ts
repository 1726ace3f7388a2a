// The Redis token store on a real redis-server: what two workers of a fleet see, a rotated
// refresh token that one worker stores being used (not the stale one) by the other, and close()
// really closing the connection (also when Redis is gone), so that the process can exit.
import { ConfigError, OAuth2TokenEndpoint, RedisTokenStore, RefreshingTokenProvider } from "@botrun/core";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTokenServer, type TestTokenServer } from "../../packages/core/test-support/token-server.ts";
import { startRedis, type RedisServer } from "../env/redis.ts";

let redis: RedisServer;
let tokens: TestTokenServer;
const stores: RedisTokenStore[] = [];
const providers: RefreshingTokenProvider[] = [];
/** Refresh tokens the endpoint has accepted, in order; a reused one gets invalid_grant. */
const used: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  let n = 0;
  tokens = await startTokenServer((req) => {
    const rt = req.form.refresh_token ?? "";
    if (used.includes(rt) || !rt.startsWith("rt")) return { status: 400, json: { error: "invalid_grant" } };
    used.push(rt);
    n++;
    return { status: 200, json: { access_token: `at${n}`, expires_in: 3600, refresh_token: `rt${n}`, token_type: "bearer" } };
  });
});

afterAll(async () => {
  for (const p of providers) p.stop?.();
  for (const s of stores) await s.close();
  await tokens?.close();
  await redis?.stop();
  expect(() => process.kill(redis.pid, 0)).toThrow(); // no redis-server left behind
});

const store = (prefix = "t1:") => {
  const s = new RedisTokenStore({ url: redis.url, prefix });
  stores.push(s);
  return s;
};

describe("RedisTokenStore", () => {
  it("saves, loads and deletes; another instance (another worker) sees the same entry", async () => {
    const a = store();
    const b = store();
    expect(await a.load("echo")).toBeUndefined();
    await a.save("echo", { accessToken: "x", refreshToken: "y", expiresAt: 123 });
    expect(await b.load("echo")).toEqual({ accessToken: "x", refreshToken: "y", expiresAt: 123 });
    await b.delete("echo");
    expect(await a.load("echo")).toBeUndefined();
  });

  it("an entry that is not a token set (bad JSON, or JSON of the wrong shape) is a configuration error naming the store, never its content", async () => {
    const s = store("t5:");
    const set = (value: string) => execFileSync("redis-cli", ["-p", String(redis.port), "SET", "t5:echo", value], { encoding: "utf8" });
    for (const bad of ["{not json", JSON.stringify({ accessToken: 12345, refreshToken: "secret-rt" }), "[]"]) {
      set(bad);
      const err = await s.load("echo").then(() => undefined, (e: unknown) => e as Error);
      expect(err, bad).toBeInstanceOf(ConfigError); // botrun exits 2 with this one line
      expect(err?.message).toMatch(/BOTRUN_TOKEN_STORE: the entry for "echo" in Redis is not a valid token set/);
      expect(err?.message).not.toMatch(/secret-rt|12345/);
    }
  });

  it("two workers share one account: a rotated refresh token stored by one is the one the other uses", async () => {
    const endpoint = new OAuth2TokenEndpoint({ clientId: "client", tokenUrl: tokens.url });
    const worker = () => {
      const p = new RefreshingTokenProvider({ endpoint, store: store("t2:"), accountKey: "echo", seed: { refreshToken: "rt0" } });
      providers.push(p);
      return p;
    };
    const a = worker();
    const b = worker();
    expect(await a.getAccessToken()).toBe("at1"); // a refreshed rt0 → at1/rt1, stored in Redis
    expect(await b.getAccessToken()).toBe("at1"); // b: the stored token wins over its env seed
    expect(await a.getAccessToken({ forceRefresh: true })).toBe("at2"); // rt1 → rt2
    // b drops its at1, re-reads Redis and finds a token it did not have: at2, with no endpoint call.
    expect(await b.getAccessToken({ forceRefresh: true })).toBe("at2");
    expect(used).toEqual(["rt0", "rt1"]);
    // Refreshing again, b uses the rotated rt2 from Redis, not its stale rt1.
    expect(await b.getAccessToken({ forceRefresh: true })).toBe("at3");
    expect(used).toEqual(["rt0", "rt1", "rt2"]); // every refresh token used once, no invalid_grant
  });

  it("close() ends the connection (the server sees it go) and is idempotent; the store is unusable after", async () => {
    // redis-cli (Debian's redis-tools, a dependency of redis-server) counts the connections; it is one itself.
    const clients = () => execFileSync("redis-cli", ["-p", String(redis.port), "CLIENT", "LIST"], { encoding: "utf8" }).trim().split("\n").length;
    const base = clients();
    const s = new RedisTokenStore({ url: redis.url, prefix: "t3:" });
    await s.save("k", { accessToken: "a" });
    expect(clients()).toBe(base + 1);
    await s.close();
    await s.close();
    expect(clients()).toBe(base);
    await expect(s.load("k")).rejects.toThrow(/closed/);
  });

  it("close() with Redis gone returns within the QUIT timeout and drops the connection", async () => {
    const gone = await startRedis();
    const s = new RedisTokenStore({ url: gone.url });
    await s.save("k", { accessToken: "a" });
    await gone.stop();
    const t0 = Date.now();
    await s.close();
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});
