/** Tests of StaticTokenProvider, FunctionTokenProvider and createTokenProvider / tokenConfigFromEnv. */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config/errors.ts";
import { accountKeyFor, createTokenProvider, tokenConfigFromEnv } from "./create-provider.ts";
import { MemoryTokenStore } from "./memory-store.ts";
import { FunctionTokenProvider } from "./function-provider.ts";
import { RefreshingTokenProvider } from "./refreshing-provider.ts";
import { StaticTokenProvider } from "./static-provider.ts";
import { PermanentAuthError } from "./types.ts";

describe("StaticTokenProvider", () => {
  it("serves its token; forceRefresh is a permanent error without the token in it", async () => {
    const p = new StaticTokenProvider("STATIC-TOKEN-123");
    expect(await p.getAccessToken()).toBe("STATIC-TOKEN-123");
    const events: boolean[] = [];
    p.on("refresh-failed", (e) => events.push(e.permanent));
    const err = (await p.getAccessToken({ forceRefresh: true }).catch((e: unknown) => e)) as PermanentAuthError;
    expect(err).toBeInstanceOf(PermanentAuthError);
    expect(err.code).toBe("static_token_rejected");
    expect(err.message).toMatch(/^access token rejected; static tokens cannot be refreshed/);
    expect(err.message).not.toContain("STATIC-TOKEN-123");
    expect(events).toEqual([true]);
  });
});

describe("FunctionTokenProvider", () => {
  it("single-flight, caches until expiry minus margin, forceRefresh bypasses the cache", async () => {
    let now = 0;
    let calls = 0;
    const seen: boolean[] = [];
    const p = new FunctionTokenProvider(
      async ({ forceRefresh }) => {
        calls++;
        seen.push(forceRefresh);
        await new Promise((r) => setImmediate(r));
        return { accessToken: `T${calls}`, expiresAt: 100_000 };
      },
      { now: () => now, marginMs: 10_000 },
    );
    expect(await Promise.all(Array.from({ length: 10 }, () => p.getAccessToken()))).toEqual(Array(10).fill("T1"));
    expect(calls).toBe(1);
    now = 89_999;
    expect(await p.getAccessToken()).toBe("T1");
    now = 90_000;
    expect(await p.getAccessToken()).toBe("T2");
    expect(await p.getAccessToken({ forceRefresh: true })).toBe("T3");
    expect(seen).toEqual([false, false, true]);
  });

  it("plain strings are not cached; errors propagate and are emitted", async () => {
    let calls = 0;
    const p = new FunctionTokenProvider(async () => {
      calls++;
      if (calls === 3) throw new PermanentAuthError("gone", "invalid_grant");
      return `S${calls}`;
    });
    const failed: boolean[] = [];
    p.on("refresh-failed", (e) => failed.push(e.permanent));
    expect(await p.getAccessToken()).toBe("S1");
    expect(await p.getAccessToken()).toBe("S2");
    await expect(p.getAccessToken()).rejects.toBeInstanceOf(PermanentAuthError);
    expect(failed).toEqual([true]);
  });
});

describe("createTokenProvider", () => {
  const settingOf = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).setting;
    }
    return undefined;
  };

  it("static token alone → StaticTokenProvider", () => {
    expect(createTokenProvider({ accountKey: "b", accessToken: "tok" })).toBeInstanceOf(StaticTokenProvider);
  });

  it("refresh settings → RefreshingTokenProvider (oauth2 and wrap)", () => {
    const store = new MemoryTokenStore();
    expect(createTokenProvider({ accountKey: "b", clientId: "c", refreshToken: "r", store })).toBeInstanceOf(RefreshingTokenProvider);
    expect(createTokenProvider({ accountKey: "b", flavor: "wrap", refreshToken: "r", store })).toBeInstanceOf(RefreshingTokenProvider);
  });

  it("names the missing or invalid setting", () => {
    expect(settingOf(() => createTokenProvider({ accountKey: "b" }))).toBe("OAUTH_CLIENT_ID");
    expect(settingOf(() => createTokenProvider({ accountKey: "b", refreshToken: "r" }))).toBe("OAUTH_CLIENT_ID");
    expect(settingOf(() => createTokenProvider({ accountKey: "b", clientId: "c", refreshToken: "r", tokenUrl: "http://example.com/t" }))).toBe("OAUTH_TOKEN_URL");
    expect(settingOf(() => createTokenProvider({ accountKey: "b", clientId: "c", refreshToken: "r", storeSpec: "s3://x" }))).toBe("BOTRUN_TOKEN_STORE");
    expect(settingOf(() => createTokenProvider({ accountKey: "b", flavor: "x" as "wrap" }))).toBe("OAUTH_FLAVOR");
  });

  it("tokenConfigFromEnv reads the OAUTH_* variables", () => {
    const cfg = tokenConfigFromEnv(
      { OAUTH_FLAVOR: "WRAP", OAUTH_CLIENT_ID: "c", OAUTH_REFRESH_TOKEN: "r", OAUTH_TOKEN_URL: "https://t", BOTRUN_TOKEN_STORE: "memory:", OAUTH_SCOPE: "s", XMPP_ACCESS_TOKEN: " " },
      "echo",
    );
    expect(cfg).toEqual({ flavor: "wrap", accountKey: accountKeyFor("echo"), botName: "echo", clientId: "c", refreshToken: "r", tokenUrl: "https://t", storeSpec: "memory:", scope: "s" });
    expect(settingOf(() => tokenConfigFromEnv({ OAUTH_CLIENT_AUTH: "digest" }, "b"))).toBe("OAUTH_CLIENT_AUTH");
  });
});
