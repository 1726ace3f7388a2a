/** Tests of RefreshingTokenProvider against a real loopback token endpoint (no fetch mocks). */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TransientAuthError } from "./errors.ts";
import { FileTokenStore } from "./file-store.ts";
import { MemoryTokenStore } from "./memory-store.ts";
import { OAuth2TokenEndpoint } from "./oauth2-endpoint.ts";
import { RefreshingTokenProvider, type RefreshingTokenProviderOptions } from "./refreshing-provider.ts";
import { startTokenServer, type Reply, type TestTokenServer } from "../../test-support/token-server.ts";
import { PermanentAuthError, type TokenProviderEvents, type TokenSet, type TokenStore } from "./types.ts";

const SECRET = "client-secret-XYZ123";
let server: TestTokenServer;
let dir: string;
let providers: RefreshingTokenProvider[] = [];

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "botrun-rp-"));
  server = await startTokenServer(() => ({ status: 500, json: { error: "unscripted" } }));
});
afterEach(async () => {
  for (const p of providers) p.stop();
  providers = [];
  vi.useRealTimers();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function provider(store: TokenStore, extra: Partial<RefreshingTokenProviderOptions> = {}): RefreshingTokenProvider {
  const endpoint = new OAuth2TokenEndpoint({ tokenUrl: server.url, clientId: "client-1", clientSecret: SECRET });
  const p = new RefreshingTokenProvider({ endpoint, store, accountKey: "mybot", random: () => 1, ...extra });
  providers.push(p);
  return p;
}

/** Replies in sequence: rotating tokens AT-n / RT-n. */
function rotating(rotate = true): (r: unknown, n: number) => Reply {
  return (_r, n) => ({ status: 200, json: { access_token: `AT-${n}`, expires_in: 3600, token_type: "bearer", ...(rotate && { refresh_token: `RT-${n}` }) } });
}

function nextEvent<K extends keyof TokenProviderEvents & string>(p: RefreshingTokenProvider, ev: K): Promise<TokenProviderEvents[K]> {
  return new Promise((resolve) => {
    const l = (x: TokenProviderEvents[K]) => {
      p.off(ev, l);
      resolve(x);
    };
    p.on(ev, l);
  });
}

/** A store over `inner` whose saves wait for `release()`; `savingStarted` resolves when the first save begins. */
function gatedStore(inner: MemoryTokenStore, extra: Partial<TokenStore> = {}): { store: TokenStore; savingStarted: Promise<void>; release: () => void } {
  let release!: () => void;
  let saving!: () => void;
  const savingStarted = new Promise<void>((r) => (saving = r));
  const gate = new Promise<void>((r) => (release = r));
  const store: TokenStore = {
    load: (k) => inner.load(k),
    delete: (k) => inner.delete(k),
    save: async (k, t) => {
      saving();
      await gate;
      await inner.save(k, t);
    },
    ...extra,
  };
  return { store, savingStarted, release };
}

describe("RefreshingTokenProvider", () => {
  it("env seeds an empty store; the rotated refresh token is on disk when the new access token is returned", async () => {
    server.handler = rotating();
    const store = new FileTokenStore(dir);
    const p = provider(store, { seed: { refreshToken: "RT-env" } });
    const token = await p.getAccessToken().then((t) => {
      // At the moment the token is handed out, the file already holds the rotated refresh token.
      const onDisk = JSON.parse(readFileSync(store.fileFor("mybot"), "utf8")) as TokenSet;
      expect(onDisk.refreshToken).toBe("RT-1");
      expect(onDisk.accessToken).toBe("AT-1");
      return t;
    });
    expect(token).toBe("AT-1");
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.form).toMatchObject({ grant_type: "refresh_token", refresh_token: "RT-env", client_id: "client-1", client_secret: SECRET });
  });

  it("does not hand out the new access token before the save completes", async () => {
    server.handler = rotating();
    const inner = new MemoryTokenStore();
    await inner.save("mybot", { refreshToken: "RT-0" });
    const { store, savingStarted, release } = gatedStore(inner);
    const p = provider(store);
    let resolved = false;
    const got = p.getAccessToken().then((t) => ((resolved = true), t));
    await savingStarted;
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    release();
    expect(await got).toBe("AT-1");
    expect((await inner.load("mybot"))?.refreshToken).toBe("RT-1");
  });

  it("close() waits for an in-flight refresh to be saved, then closes the store", async () => {
    server.handler = rotating();
    const inner = new MemoryTokenStore();
    await inner.save("mybot", { refreshToken: "RT-0" });
    const order: string[] = [];
    const saved = inner.save.bind(inner);
    inner.save = async (k, t) => {
      await saved(k, t);
      order.push(`saved ${t.refreshToken}`);
    };
    const { store, savingStarted, release } = gatedStore(inner, { close: async () => void order.push("store closed") });
    const p = provider(store);
    const got = p.getAccessToken();
    await savingStarted;
    const closed = p.close();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]); // the store stays open while the rotation is being saved
    release();
    await closed;
    expect(order).toEqual(["saved RT-1", "store closed"]);
    expect(await got).toBe("AT-1");
  });

  it("a failed save withholds the token; the next call saves again without calling the endpoint", async () => {
    server.handler = rotating();
    const inner = new MemoryTokenStore();
    await inner.save("mybot", { refreshToken: "RT-0" });
    let failSave = true;
    const store: TokenStore = {
      load: (k) => inner.load(k),
      delete: (k) => inner.delete(k),
      save: async (k, t) => {
        if (failSave) throw new Error("disk full");
        await inner.save(k, t);
      },
    };
    const p = provider(store);
    await expect(p.getAccessToken()).rejects.toBeInstanceOf(TransientAuthError);
    failSave = false;
    expect(await p.getAccessToken()).toBe("AT-1");
    expect(server.requests).toHaveLength(1);
    expect((await inner.load("mybot"))?.refreshToken).toBe("RT-1");
  });

  it("keeps the old refresh token when none is returned", async () => {
    server.handler = rotating(false);
    const store = new MemoryTokenStore();
    await store.save("mybot", { refreshToken: "RT-keep" });
    const p = provider(store);
    expect(await p.getAccessToken()).toBe("AT-1");
    expect(await p.getAccessToken({ forceRefresh: true })).toBe("AT-2");
    expect(server.requests.map((r) => r.form.refresh_token)).toEqual(["RT-keep", "RT-keep"]);
    expect((await store.load("mybot"))?.refreshToken).toBe("RT-keep");
  });

  it("a stored refresh token wins over the environment's after restart", async () => {
    server.handler = rotating();
    const store = new FileTokenStore(dir);
    await store.save("mybot", { refreshToken: "RT-stored" });
    const p = provider(store, { seed: { refreshToken: "RT-env-stale" } });
    expect(await p.getAccessToken()).toBe("AT-1");
    expect(server.requests[0]?.form.refresh_token).toBe("RT-stored");
  });

  it("single-flight: 10 concurrent callers share one endpoint call", async () => {
    server.handler = rotating();
    const store = new MemoryTokenStore();
    await store.save("mybot", { refreshToken: "RT-0" });
    const p = provider(store);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => p.getAccessToken()));
    expect(new Set(tokens)).toEqual(new Set(["AT-1"]));
    expect(server.requests).toHaveLength(1);
    // Cached afterwards.
    expect(await p.getAccessToken()).toBe("AT-1");
    expect(server.requests).toHaveLength(1);
  });

  it("forceRefresh discards a still-valid cached token", async () => {
    server.handler = rotating();
    const store = new MemoryTokenStore();
    await store.save("mybot", { accessToken: "AT-old", expiresAt: Date.now() + 3_600_000, refreshToken: "RT-0" });
    const p = provider(store);
    expect(await p.getAccessToken()).toBe("AT-old");
    expect(server.requests).toHaveLength(0);
    expect(await p.getAccessToken({ forceRefresh: true })).toBe("AT-1");
    expect(server.requests).toHaveLength(1);
  });

  it("refreshes ahead of expiry on a timer (fake timers), then stop() clears every timer", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    server.handler = rotating();
    const store = new MemoryTokenStore();
    await store.save("mybot", { refreshToken: "RT-0" });
    const p = provider(store, { now: () => Date.now() });
    let refreshed = nextEvent(p, "refreshed");
    p.start();
    await vi.advanceTimersByTimeAsync(0);
    expect((await refreshed).expiresAt).toBe(Date.now() + 3_600_000);
    expect(server.requests).toHaveLength(1);
    // Default margin: min(5 min, 10% of 1 h) = 5 min before expiry.
    await vi.advanceTimersByTimeAsync(3_600_000 - 300_000 - 1000);
    expect(server.requests).toHaveLength(1);
    expect(await p.getAccessToken()).toBe("AT-1");
    refreshed = nextEvent(p, "refreshed");
    await vi.advanceTimersByTimeAsync(2000);
    await refreshed;
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]?.form.refresh_token).toBe("RT-1");
    expect(await p.getAccessToken()).toBe("AT-2");
    expect(vi.getTimerCount()).toBe(1);
    p.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("transient 5xx: retried with backoff while the still-valid token keeps serving", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    server.handler = (_r, n) =>
      n === 1 ? { status: 503, body: "busy" } : n === 2 ? { status: 500, json: { error: "server_error" } } : { status: 200, json: { access_token: "AT-new", expires_in: 3600, refresh_token: "RT-new" } };
    const store = new MemoryTokenStore();
    await store.save("mybot", { accessToken: "AT-old", expiresAt: Date.now() + 600_000, refreshToken: "RT-0" });
    const p = provider(store, { now: () => Date.now(), marginMs: 300_000, backoff: { initialMs: 1000, maxMs: 60_000 } });
    const failures: Array<{ error: Error; permanent: boolean }> = [];
    p.on("refresh-failed", (f) => failures.push(f));
    p.start();
    let failed = nextEvent(p, "refresh-failed");
    await vi.advanceTimersByTimeAsync(300_000);
    await failed;
    expect(server.requests).toHaveLength(1);
    expect(failures[0]?.permanent).toBe(false);
    expect(failures[0]?.error).toBeInstanceOf(TransientAuthError);
    // Still valid: served without another endpoint call.
    expect(await p.getAccessToken()).toBe("AT-old");
    expect(server.requests).toHaveLength(1);
    failed = nextEvent(p, "refresh-failed");
    await vi.advanceTimersByTimeAsync(999);
    expect(server.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await failed;
    expect(server.requests).toHaveLength(2);
    const refreshed = nextEvent(p, "refreshed");
    await vi.advanceTimersByTimeAsync(1999);
    expect(server.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await refreshed;
    expect(server.requests).toHaveLength(3);
    expect(await p.getAccessToken()).toBe("AT-new");
    expect((await store.load("mybot"))?.refreshToken).toBe("RT-new");
  });

  it("a timeout is transient; callers without a token get the error and the endpoint is not hammered", async () => {
    server.handler = () => ({ hang: true });
    const store = new MemoryTokenStore();
    await store.save("mybot", { refreshToken: "RT-0" });
    const p = provider(store, { requestTimeoutMs: 200, backoff: { initialMs: 60_000 } });
    const failed = nextEvent(p, "refresh-failed");
    const err = await p.getAccessToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientAuthError);
    expect((err as TransientAuthError).code).toBe("timeout");
    expect((await failed).permanent).toBe(false);
    await expect(p.getAccessToken()).rejects.toBe(err);
    expect(server.requests).toHaveLength(1);
  });

  it("invalid_grant latches: clear message, no secrets, no further endpoint calls, marked in the store", async () => {
    server.handler = () => ({ status: 400, json: { error: "invalid_grant", error_description: "refresh token RT-secret-777 was revoked" } });
    const store = new MemoryTokenStore();
    await store.save("mybot", { refreshToken: "RT-secret-777" });
    const p = provider(store, { seed: { refreshToken: "RT-secret-777" } });
    const failed = nextEvent(p, "refresh-failed");
    const err = await p.getAccessToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentAuthError);
    expect((err as PermanentAuthError).code).toBe("invalid_grant");
    expect((err as Error).message).toBe("OAuth consent revoked or expired (invalid_grant): run `botrun auth mybot`");
    expect(String((err as Error).stack)).not.toContain("RT-secret-777");
    expect(String((err as Error).stack)).not.toContain(SECRET);
    const ev = await failed;
    expect(ev.permanent).toBe(true);
    expect(ev.error).toBe(err);
    await expect(p.getAccessToken()).rejects.toBe(err);
    await expect(p.getAccessToken({ forceRefresh: true })).rejects.toBe(err);
    p.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests).toHaveLength(1);
    // The dead grant is remembered across restarts…
    await vi.waitFor(async () => expect((await store.load("mybot"))?.meta?.invalid).toBe("invalid_grant"));
    const again = provider(store, { seed: { refreshToken: "RT-secret-777" } });
    await expect(again.getAccessToken()).rejects.toBeInstanceOf(PermanentAuthError);
    expect(server.requests).toHaveLength(1);
    // …until a different refresh token is configured.
    server.handler = rotating();
    const fresh = provider(store, { seed: { refreshToken: "RT-brand-new" } });
    expect(await fresh.getAccessToken()).toBe("AT-2");
    expect(server.requests[1]?.form.refresh_token).toBe("RT-brand-new");
    expect((await store.load("mybot"))?.meta?.invalid).toBeUndefined();
  });

  it("invalid_client latches with a message naming the client settings", async () => {
    server.handler = () => ({ status: 401, json: { error: "invalid_client" } });
    const store = new MemoryTokenStore();
    await store.save("mybot", { refreshToken: "RT-0" });
    const p = provider(store, { botName: "echo" });
    const err = (await p.getAccessToken().catch((e: unknown) => e)) as PermanentAuthError;
    expect(err.message).toBe("OAuth client rejected (invalid_client): check OAUTH_CLIENT_ID / OAUTH_CLIENT_SECRET, then run `botrun auth echo`");
    expect((await store.load("mybot"))?.meta?.invalid).toBeUndefined();
  });

  it("no refresh token anywhere: a config error naming OAUTH_REFRESH_TOKEN, no endpoint call", async () => {
    const p = provider(new MemoryTokenStore());
    const err = (await p.getAccessToken().catch((e: unknown) => e)) as Error & { setting?: string };
    expect(err.message).toMatch(/no OAuth refresh token for mybot: run `botrun auth mybot` or set OAUTH_REFRESH_TOKEN/);
    expect(err.setting).toBe("OAUTH_REFRESH_TOKEN");
    expect(server.requests).toHaveLength(0);
  });

  it("adopts newer tokens another process stored instead of refreshing", async () => {
    server.handler = rotating();
    const store = new MemoryTokenStore();
    await store.save("mybot", { accessToken: "AT-a", expiresAt: Date.now() + 3_600_000, refreshToken: "RT-a" });
    const p = provider(store);
    expect(await p.getAccessToken()).toBe("AT-a");
    await store.save("mybot", { accessToken: "AT-b", expiresAt: Date.now() + 3_600_000, refreshToken: "RT-b" });
    expect(await p.getAccessToken({ forceRefresh: true })).toBe("AT-b");
    expect(server.requests).toHaveLength(0);
  });
});
