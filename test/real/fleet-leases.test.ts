// The fleet's Redis scripts and token single-flight on a real redis-server (and the real OAuth
// server with strict rotation): leases with generations, compare-then-act renew/release, self-fencing
// on a monotonic clock, reclaim after Redis lost its keys, CAS of the token record, and three
// workers refreshing one account at once with one endpoint call and no invalid_grant.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { OAuth2TokenEndpoint, PermanentAuthError, TypedEmitter, xml, type Element, type TokenEndpoint, type Transport, type TransportEvents } from "@botrun/core";
import { AccountStore, closeRedis, connectRedis, FleetKeys, FleetTokenStore, LeaseTable, SecretBox, SeenFilterTransport, SingleFlightEndpoint, type FleetRedis } from "@botrun/fleet";
import { startRedis, type RedisServer } from "../env/redis.ts";
import { startOAuthServer, type OAuthServerHandle } from "../env/oauth-server.ts";
import { startProxy } from "../env/tcp-proxy.ts";

let redis: RedisServer;
let oauth: OAuthServerHandle;
const clients: FleetRedis[] = [];
const box = new SecretBox("fleet-leases-test-secret-0123456789");
const client = () => {
  const c = connectRedis(redis.url);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  [redis, oauth] = await Promise.all([startRedis(), startOAuthServer({ accessTtl: 60 })]);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => closeRedis(c)));
  await Promise.all([redis?.stop(), oauth?.stop()]);
});

/** A monotonic clock the test moves by hand. */
const manualClock = () => {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

describe("leases", () => {
  it("one holder at a time; generations grow; release and renew only act on our own value", async () => {
    const keys = new FleetKeys("lease-a");
    const a = new LeaseTable({ redis: client(), keys, holder: "wa:e1", ttlMs: 5000 });
    const b = new LeaseTable({ redis: client(), keys, holder: "wb:e2", ttlMs: 5000 });
    const first = await a.acquire("x@h");
    expect(first).toMatchObject({ value: "wa:e1:1", generation: 1 });
    expect(await b.acquire("x@h")).toBeUndefined();
    expect(await a.renewAll()).toEqual([]);
    await a.release("x@h");
    const second = await b.acquire("x@h");
    expect(second?.generation).toBe(2);
    // a holder whose lease was taken: its renewal reports it lost, its release deletes nothing
    await a.acquire("z@h");
    await client().set(keys.lease("z@h"), "wb:e2:7", "PX", 5000); // taken over behind a's back
    expect(await a.renewAll()).toEqual(["z@h"]);
    expect(a.get("z@h")).toBeUndefined();
    await b.release("x@h");
    expect(await client().get(keys.lease("x@h"))).toBeNull();
    await client().set(keys.lease("x@h"), "wc:e3:3", "PX", 5000);
    await b.release("x@h"); // not held any more: nothing happens
    expect(await client().get(keys.lease("x@h"))).toBe("wc:e3:3");
  });

  it("renewal extends the TTL in Redis; a lease is trusted for 2/3 TTL after the last renewal *sent*", async () => {
    const keys = new FleetKeys("lease-b");
    const clock = manualClock();
    const t = new LeaseTable({ redis: client(), keys, holder: "w:e", ttlMs: 3000, now: clock.now });
    await t.acquire("a@h");
    expect(t.trusted("a@h")).toBe(true);
    clock.advance(1900);
    expect(t.expired()).toEqual([]);
    await t.renewAll(); // sent at 2900: trusted until 4900
    expect(await client().pttl(keys.lease("a@h"))).toBeGreaterThan(2500);
    clock.advance(1999);
    expect(t.expired()).toEqual([]);
    clock.advance(1);
    expect(t.expired()).toEqual(["a@h"]);
    expect(t.trusted("a@h")).toBe(false);
    expect(t.size).toBe(0);
  });

  it("a renewal that fails (link to Redis black-holed) does not extend trust: the lease is dropped at 2/3 TTL", async () => {
    const keys = new FleetKeys("lease-c");
    const clock = manualClock();
    const proxy = await startProxy("127.0.0.1", redis.port);
    const viaProxy = connectRedis(`redis://127.0.0.1:${proxy.port}/0`, { commandTimeoutMs: 300 });
    viaProxy.on("error", () => undefined);
    try {
      const t = new LeaseTable({ redis: viaProxy, keys, holder: "w:e", ttlMs: 3000, now: clock.now });
      await t.acquire("a@h");
      proxy.blackhole(true);
      clock.advance(1000);
      await expect(t.renewAll()).rejects.toThrow(/timed out/i);
      expect(t.trusted("a@h")).toBe(true);
      expect(await t.stillOurs("a@h")).toBe(true); // Redis cannot be asked: still trusted, so ours (a reconnect may log in)
      clock.advance(1000);
      expect(await t.stillOurs("a@h")).toBe(false);
      expect(t.expired()).toEqual(["a@h"]);
    } finally {
      viaProxy.disconnect();
      await proxy.stop();
    }
  });

  it("after Redis lost its keys, a trusted holder reclaims its lease and the generation never goes back", async () => {
    const keys = new FleetKeys("lease-d");
    const r = client();
    const t = new LeaseTable({ redis: r, keys, holder: "w:e", ttlMs: 5000 });
    await r.set(keys.generation("a@h"), 41);
    const l = await t.acquire("a@h");
    expect(l?.generation).toBe(42);
    await r.del(keys.lease("a@h"), keys.generation("a@h")); // what a restart without persistence does
    expect(await t.reclaimAll()).toEqual([]);
    expect(await r.get(keys.lease("a@h"))).toBe("w:e:42");
    expect(Number(await r.get(keys.generation("a@h")))).toBe(42);
    const other = new LeaseTable({ redis: r, keys, holder: "v:f", ttlMs: 5000 });
    await r.del(keys.lease("a@h"));
    expect((await other.acquire("a@h"))?.generation).toBe(43);
    expect(await t.reclaimAll()).toEqual(["a@h"]); // someone else took it: lost, not overwritten
    expect(await r.get(keys.lease("a@h"))).toBe("v:f:43");
  });
});

describe("tokens across workers", () => {
  const endpoint = (): TokenEndpoint => new OAuth2TokenEndpoint({ clientId: oauth.clientId, clientSecret: oauth.clientSecret, tokenUrl: oauth.tokenUrl });

  it("the token record is sealed in Redis and written by compare-and-set on its version", async () => {
    const r = client();
    const accounts = new AccountStore(r, box, "tok-a");
    await accounts.import([{ jid: "a@h", refreshToken: "RT-plain-value-1" }]);
    const dump = JSON.stringify(await r.hgetall(accounts.keys.account("a@h")));
    expect(dump).not.toContain("RT-plain-value-1");
    const s1 = new FleetTokenStore(r, accounts.keys, box, "a@h");
    const s2 = new FleetTokenStore(client(), accounts.keys, box, "a@h");
    expect((await s1.load())?.refreshToken).toBe("RT-plain-value-1");
    await s2.load();
    await s2.write({ refreshToken: "RT-2", accessToken: "AT-2" }, true);
    // s1 read version 1; the record moved to 2 with another refresh token: refused
    await expect(s1.save("a@h", { refreshToken: "RT-other" })).rejects.toThrow(/changed by another writer/);
    expect((await s1.load())?.refreshToken).toBe("RT-2");
    // the same refresh token written over a moved version is fine (it is ours)
    await s2.write({ refreshToken: "RT-3" }, false);
    await s1.save("a@h", { refreshToken: "RT-3", accessToken: "AT-3" });
    expect(await s2.load()).toMatchObject({ refreshToken: "RT-3", accessToken: "AT-3" });
    expect((await accounts.list())[0]?.lastRefresh).toBeGreaterThan(0);
  });

  it("three workers refreshing one account at once: one endpoint call, all adopt the rotation, no invalid_grant", async () => {
    const { refreshToken } = await oauth.issueTokens("sf-user", { accessTtl: 60 });
    const accounts = new AccountStore(client(), box, "tok-b");
    await accounts.import([{ jid: "sf@h", refreshToken }]);
    const before = oauth.stats.tokenRequests;
    const workers = [0, 1, 2].map(() => {
      const r = client();
      const store = new FleetTokenStore(r, accounts.keys, box, "sf@h");
      return { store, ep: new SingleFlightEndpoint({ redis: r, keys: accounts.keys, jid: "sf@h", store, inner: endpoint() }) };
    });
    await Promise.all(workers.map((w) => w.store.load()));
    const results = await Promise.all(workers.map((w) => w.ep.refresh(refreshToken)));
    expect(oauth.stats.tokenRequests - before).toBe(1);
    expect(new Set(results.map((t) => t.refreshToken)).size).toBe(1);
    expect(results[0]!.refreshToken).not.toBe(refreshToken);
    expect(workers.reduce((n, w) => n + w.ep.stats.calls, 0)).toBe(1);
    expect(workers.reduce((n, w) => n + w.ep.stats.adopted, 0)).toBe(2);
    // the rotated token still works (the grant was not revoked by a reuse)
    const next = await endpoint().refresh(results[0]!.refreshToken!);
    expect(next.accessToken).toBeTruthy();
  });

  it("invalid_grant with no newer token stored is rethrown (consent gone); with a newer one stored it is adopted", async () => {
    const { refreshToken } = await oauth.issueTokens("ig-user", { accessTtl: 60 });
    const r = client();
    const accounts = new AccountStore(r, box, "tok-c");
    await accounts.import([{ jid: "ig@h", refreshToken }]);
    const store = new FleetTokenStore(r, accounts.keys, box, "ig@h");
    await store.load();
    await oauth.revoke(refreshToken);
    const ep = new SingleFlightEndpoint({ redis: r, keys: accounts.keys, jid: "ig@h", store, inner: endpoint() });
    await expect(ep.refresh(refreshToken)).rejects.toBeInstanceOf(PermanentAuthError);
    // a sibling stores a newer token while our call fails: adopted instead of giving up
    const fresh = await oauth.issueTokens("ig-user", { accessTtl: 60 });
    const failing: TokenEndpoint = {
      refresh: async () => {
        const sibling = new FleetTokenStore(client(), accounts.keys, box, "ig@h");
        await sibling.load();
        await sibling.write({ refreshToken: fresh.refreshToken, accessToken: fresh.accessToken, expiresAt: Date.now() + 60_000 }, true);
        throw new PermanentAuthError("refresh token reused", "invalid_grant");
      },
    };
    const ep2 = new SingleFlightEndpoint({ redis: r, keys: accounts.keys, jid: "ig@h", store, inner: failing });
    await expect(ep2.refresh(refreshToken)).resolves.toMatchObject({ refreshToken: fresh.refreshToken });
  });
});

/** A transport that only emits what the test feeds it. */
class FedTransport extends TypedEmitter<TransportEvents> implements Transport {
  readonly kind = "fed";
  readonly jid = undefined;
  async start(): Promise<void> {}
  async send(): Promise<void> {}
  async stop(): Promise<void> {}
}

describe("inbound redelivery filter in Redis (per account)", () => {
  it("a message taken by one session of the account is dropped by the next (a takeover); order kept; errors, groupchat and other accounts untouched", async () => {
    const keys = new FleetKeys("seen-a");
    const [innerA, innerB] = [new FedTransport(), new FedTransport()];
    const a = new SeenFilterTransport(innerA, { redis: client(), prefix: keys.seen("bot@h") });
    const b = new SeenFilterTransport(innerB, { redis: client(), prefix: keys.seen("bot@h") });
    const other = new SeenFilterTransport(new FedTransport(), { redis: client(), prefix: keys.seen("other@h") });
    const got = { a: [] as string[], b: [] as string[] };
    a.on("stanza", (el) => got.a.push(el.attrs.id as string));
    b.on("stanza", (el) => got.b.push(el.attrs.id as string));
    const msg = (id: string, extra: Record<string, string> = {}): Element => xml("message", { from: "alice@h/phone", to: "bot@h", type: "chat", id, ...extra }, xml("body", {}, id));
    const ids = Array.from({ length: 30 }, (_, i) => `m${i}`);
    for (const id of ids) innerA.emit("stanza", msg(id));
    await vi.waitFor(() => expect(got.a).toHaveLength(30));
    expect(got.a).toEqual(ids);
    // the new owner gets m5 again (offline storage after the old session died): dropped; m30 is new;
    // m5 from another client of alice is another message (ids are unique per client only)
    for (const el of [msg("m5"), msg("m30"), msg("m5", { from: "alice@h/laptop" }), msg("e1", { type: "error" }), msg("e1", { type: "error" })]) innerB.emit("stanza", el);
    await vi.waitFor(() => expect(got.b).toEqual(["m30", "m5", "e1", "e1"]));
    expect(b.duplicates).toBe(1);
    // another account's filter is separate
    const seenByOther: string[] = [];
    other.on("stanza", (el) => seenByOther.push(el.attrs.id as string));
    (other.inner as FedTransport).emit("stanza", msg("m5"));
    await vi.waitFor(() => expect(seenByOther).toEqual(["m5"]));
    // a listener that throws does not stop the stanzas after it
    const after: string[] = [];
    other.on("stanza", (el) => {
      if (el.attrs.id === "boom") throw new Error("handler bug");
      after.push(el.attrs.id as string);
    });
    for (const id of ["boom", "next"]) (other.inner as FedTransport).emit("stanza", msg(id));
    await vi.waitFor(() => expect(after).toEqual(["next"]));
  });
});
