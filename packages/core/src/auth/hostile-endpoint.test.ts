/**
 * Hostile token endpoints (real node:http servers on 127.0.0.1): redirects that would carry the
 * refresh token and client secret to another host, endless or oversized bodies, absurd
 * `expires_in` values, secrets echoed back percent- or base64-encoded, and a token file planted by
 * another local user.
 */
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../config/errors.ts";
import { createConsoleLogger, redactString } from "../logger.ts";
import { AuthConfigError, TransientAuthError } from "./errors.ts";
import { FileTokenStore } from "./file-store.ts";
import { MemoryTokenStore } from "./memory-store.ts";
import { MAX_RESPONSE_BYTES, TokenEndpointRedirectError } from "./http.ts";
import { OAuth2TokenEndpoint } from "./oauth2-endpoint.ts";
import { RefreshingTokenProvider } from "./refreshing-provider.ts";
import { MIN_REFRESH_INTERVAL_MS } from "./token-timing.ts";
import { startTokenServer, type TestTokenServer } from "../../test-support/token-server.ts";
import { PermanentAuthError, type TokenEndpoint } from "./types.ts";
import { WrapTokenEndpoint } from "./wrap-endpoint.ts";

const RT = "hostile-RT-a/b+c=d 1";
const CS = "hostile-client-secret-Q9/+=";
let hostile: TestTokenServer;
/** Where the hostile endpoint sends the client: it records what it receives. */
let sink: TestTokenServer;
const servers: Server[] = [];
const providers: RefreshingTokenProvider[] = [];

beforeEach(async () => {
  sink = await startTokenServer(() => ({ status: 200, json: { access_token: "AT-from-sink", refresh_token: "RT-from-sink", expires_in: 3600 } }));
  hostile = await startTokenServer(() => ({ status: 500, json: { error: "unscripted" } }));
});
afterEach(async () => {
  for (const p of providers.splice(0)) p.stop();
  vi.useRealTimers();
  await Promise.all([sink.close(), hostile.close(), ...servers.splice(0).map((s) => new Promise((r) => (s.close(r), s.closeAllConnections())))]);
});

const oauth2 = (tokenUrl = hostile.url) => new OAuth2TokenEndpoint({ tokenUrl, clientId: "cid", clientSecret: CS });

function provider(endpoint: TokenEndpoint, extra: Partial<ConstructorParameters<typeof RefreshingTokenProvider>[0]> = {}) {
  const p = new RefreshingTokenProvider({ endpoint, store: new MemoryTokenStore(), accountKey: "bot", seed: { refreshToken: RT }, random: () => 1, ...extra });
  providers.push(p);
  return p;
}

describe("token-endpoint redirects are never followed", () => {
  for (const status of [301, 302, 303, 307, 308]) {
    it(`HTTP ${status} to another host: nothing reaches it, a config error names OAUTH_TOKEN_URL and the target origin, no secret`, async () => {
      hostile.handler = () => ({ status, headers: { location: `${sink.url}?steal=1` } });
      const err = await oauth2().refresh(RT).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TokenEndpointRedirectError);
      expect(err).toBeInstanceOf(ConfigError); // exit 2
      const msg = (err as Error).message;
      expect(msg).toContain("OAUTH_TOKEN_URL");
      expect(msg).toContain(`HTTP ${status}`);
      expect(msg).toContain(new URL(sink.url).origin);
      expect(msg).not.toContain("steal");
      for (const s of [RT, CS, encodeURIComponent(RT), encodeURIComponent(CS)]) expect(msg).not.toContain(s);
      expect(hostile.requests).toHaveLength(1);
      expect(sink.requests).toHaveLength(0);
    });
  }

  it("the code exchange of `botrun auth` and the WRAP endpoint do not follow either", async () => {
    hostile.handler = () => ({ status: 307, headers: { location: sink.url } });
    await expect(oauth2().exchangeCode("the-code", "http://127.0.0.1:1/cb")).rejects.toBeInstanceOf(TokenEndpointRedirectError);
    const wrap = new WrapTokenEndpoint({ refreshUrl: hostile.url, accessTokenUrl: hostile.url, clientId: "cid", clientSecret: CS });
    await expect(wrap.refresh(RT)).rejects.toBeInstanceOf(TokenEndpointRedirectError);
    await expect(wrap.exchangeCode("code", "http://127.0.0.1:1/cb")).rejects.toBeInstanceOf(TokenEndpointRedirectError);
    expect(sink.requests).toHaveLength(0);
  });

  it("the provider stops for good (exit 2) and stores nothing; no second request", async () => {
    hostile.handler = () => ({ status: 308, headers: { location: sink.url } });
    const store = new MemoryTokenStore();
    const p = provider(oauth2(), { store });
    const err = await p.getAccessToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthConfigError);
    expect(await p.getAccessToken().catch((e: unknown) => e)).toBe(err);
    expect(hostile.requests).toHaveLength(1);
    expect(sink.requests).toHaveLength(0);
    expect((await store.load("bot"))?.accessToken).toBeUndefined();
  });

  it("a fetch that follows redirects anyway: the other host's tokens are never used or stored", async () => {
    hostile.handler = () => ({ status: 307, headers: { location: sink.url } });
    const store = new MemoryTokenStore();
    const following = new OAuth2TokenEndpoint({ tokenUrl: hostile.url, clientId: "cid", fetch: (i, init) => fetch(i, { ...init, redirect: "follow" }) });
    const err = await provider(following, { store }).getAccessToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenEndpointRedirectError);
    expect(sink.requests).toHaveLength(1); // that fetch did follow…
    expect(JSON.stringify(await store.load("bot"))).not.toContain("from-sink"); // …but nothing it got is kept
  });
});

/** A server that streams `total` bytes of JSON-ish filler (honouring backpressure) and counts what it wrote. */
async function streamingServer(total: number, declareLength: boolean): Promise<{ url: string; written: () => number; closed: Promise<void> }> {
  let written = 0;
  let closed!: () => void;
  const done = new Promise<void>((r) => (closed = r));
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/json", ...(declareLength && { "content-length": String(total) }) });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let stop = false;
    res.on("close", () => {
      stop = true;
      closed();
    });
    const pump = () => {
      while (!stop && written < total) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      if (!stop) res.end();
    };
    pump();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`, written: () => written, closed: done };
}

describe("the token endpoint's response body is capped", () => {
  it("a 1 GB body (no content-length) is cut off after the cap: transient error, the stream aborted, memory flat", async () => {
    const gb = await streamingServer(1024 ** 3, false);
    const rss = process.memoryUsage().rss;
    const err = await oauth2(gb.url).refresh(RT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientAuthError);
    expect((err as TransientAuthError).code).toBe("response_too_large");
    expect((err as Error).message).toMatch(/larger than 64 KiB/);
    await gb.closed; // the client hung up
    expect(gb.written()).toBeLessThan(64 * 1024 ** 2); // what socket buffers took, not the gigabyte
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 ** 2);
  });

  it("a declared content-length over the cap is refused before reading; a body just under it is read", async () => {
    const big = await streamingServer(MAX_RESPONSE_BYTES + 1, true);
    await expect(oauth2(big.url).refresh(RT)).rejects.toMatchObject({ code: "response_too_large" });
    hostile.handler = () => ({ status: 200, json: { access_token: "AT", expires_in: 3600, pad: "x".repeat(MAX_RESPONSE_BYTES - 100) } });
    expect((await oauth2().refresh(RT)).accessToken).toBe("AT");
  });
});

describe("absurd expires_in and Retry-After values never spin (or stop) the refresh loop", () => {
  for (const expires_in of [0.001, 0, -5, "soon", 1e308]) {
    it(`expires_in ${JSON.stringify(expires_in)}: background refreshes at least ${MIN_REFRESH_INTERVAL_MS / 1000} s apart, one log line`, async () => {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
      hostile.handler = (_r, n) => ({ status: 200, json: { access_token: `AT-${n}`, refresh_token: `RT-${n}`, expires_in } });
      const lines: string[] = [];
      const endpoint = oauth2();
      let calls = 0; // counted when the provider calls, before any I/O
      const counting: TokenEndpoint = { refresh: (rt, o) => (calls++, endpoint.refresh(rt, o)) };
      const p = provider(counting, { now: () => Date.now(), logger: createConsoleLogger({ level: "debug", write: (l) => lines.push(l) }) });
      const refreshed = () => new Promise<void>((r) => p.on("refreshed", function l() { p.off("refreshed", l); r(); }));
      expect(await p.getAccessToken()).toBe("AT-1");
      p.start();
      // The old behaviour: a timer of 0 ms after every refresh (400 requests in 20 s).
      await vi.advanceTimersByTimeAsync(MIN_REFRESH_INTERVAL_MS - 1);
      expect(calls).toBe(1);
      const next = refreshed();
      await vi.advanceTimersByTimeAsync(1);
      if (typeof expires_in === "number" && expires_in < 1) {
        await next;
        expect(calls).toBe(2);
        await vi.advanceTimersByTimeAsync(MIN_REFRESH_INTERVAL_MS - 1);
        expect(calls).toBe(2);
        expect(lines.filter((l) => /implausible/.test(l))).toHaveLength(2);
        expect(lines.filter((l) => l.startsWith("WARN") && /implausible expires_in/.test(l))).toHaveLength(1);
      } else {
        expect(calls).toBe(1); // unknown or far-off expiry: nothing due
      }
    });
  }

  it("a Retry-After of ten years is honoured for an hour at most", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    hostile.handler = (_r, n) => (n === 1 ? { status: 503, headers: { "retry-after": String(10 * 365 * 86400) } } : { status: 200, json: { access_token: "AT-late", expires_in: 3600 } });
    const endpoint = oauth2();
    let calls = 0;
    const p = provider({ refresh: (rt, o) => (calls++, endpoint.refresh(rt, o)) }, { now: () => Date.now() });
    await expect(p.getAccessToken()).rejects.toBeInstanceOf(TransientAuthError);
    p.start();
    await vi.advanceTimersByTimeAsync(3600_000 - 1);
    expect(calls).toBe(1);
    const refreshed = new Promise<void>((r) => p.on("refreshed", () => r()));
    await vi.advanceTimersByTimeAsync(1);
    await refreshed;
    expect(calls).toBe(2);
    expect(await p.getAccessToken()).toBe("AT-late");
  });

  it("a huge expires_in is stored as a finite date that loads again", async () => {
    hostile.handler = () => ({ status: 200, json: { access_token: "AT-huge", refresh_token: "RT-huge", expires_in: 1e308 } });
    const dir = mkdtempSync(path.join(tmpdir(), "botrun-hostile-"));
    try {
      expect(await provider(oauth2(), { store: new FileTokenStore(dir) }).getAccessToken()).toBe("AT-huge");
      const stored = await new FileTokenStore(dir).load("bot");
      expect(stored?.refreshToken).toBe("RT-huge");
      expect(stored?.expiresAt).toBeLessThanOrEqual(Date.now() + 31 * 24 * 3600_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("secrets echoed back encoded are masked", () => {
  it("error_description with the refresh token and client secret percent-, form- and base64-encoded", async () => {
    const forms = (s: string) => [s, encodeURIComponent(s), new URLSearchParams({ s }).toString().slice(2), Buffer.from(s).toString("base64"), Buffer.from(s).toString("base64url")];
    hostile.handler = () => ({ status: 400, json: { error: "invalid_grant", error_description: [...forms(RT), ...forms(CS)].join(" | ") } });
    const err = await oauth2().refresh(RT).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentAuthError);
    const msg = (err as Error).message;
    expect(msg).toContain("[redacted]");
    for (const f of [...forms(RT), ...forms(CS)]) expect(msg).not.toContain(f.replace(/=+$/, ""));
  });

  it("the authorization code of `botrun auth`, echoed percent-encoded, is masked in the error", async () => {
    const code = "M.C5/auth+code=secret 42";
    hostile.handler = () => ({ status: 400, json: { error: "invalid_grant", error_description: `code ${encodeURIComponent(code)} / ${new URLSearchParams({ code })} expired` } });
    const err = await oauth2().exchangeCode(code, "http://127.0.0.1:1/cb").catch((e: unknown) => e);
    const msg = (err as Error).message;
    expect(msg).toMatch(/code \[redacted\] \/ code=\[redacted\] expired/);
    expect(msg).not.toContain(encodeURIComponent(code));
  });

  it("a registered long-lived secret (the client secret) is still masked after 1,000 rotated access tokens", async () => {
    const secret = "client-secret-long-lived-7Yq";
    new OAuth2TokenEndpoint({ clientId: "x", clientSecret: secret }); // endpoints do not register; the factory does
    const { createTokenProvider } = await import("./create-provider.ts");
    createTokenProvider({ accountKey: "k", clientId: "x", clientSecret: secret, refreshToken: "rt-long-lived-1", store: new MemoryTokenStore() });
    const { registerSecret } = await import("../logger.ts");
    for (let i = 0; i < 1000; i++) registerSecret(`access-token-${i}-xxxxxxxx`, { rotating: true });
    const text = `a ${secret} b ${encodeURIComponent(secret)} c ${Buffer.from(secret).toString("base64")} d rt-long-lived-1`;
    expect(redactString(text)).toBe("a [redacted] b [redacted] c [redacted] d [redacted]");
    expect(redactString("access-token-999-xxxxxxxx")).toBe("[redacted]");
    expect(redactString("access-token-0-xxxxxxxx")).toBe("access-token-0-xxxxxxxx"); // bounded: the oldest fell out
  });
});

describe("a token file planted by another local user", () => {
  it.skipIf(process.getuid?.() !== 0)("in a world-writable store directory is not adopted: exit 2, the endpoint never called", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "botrun-planted-"));
    try {
      chmodSync(dir, 0o1777);
      const store = new FileTokenStore(dir);
      writeFileSync(store.fileFor("bot"), JSON.stringify({ accessToken: "AT-planted", refreshToken: "RT-planted" }), { mode: 0o600 });
      chownSync(store.fileFor("bot"), 65534, 65534);
      hostile.handler = () => ({ status: 200, json: { access_token: "AT-x", expires_in: 3600 } });
      const err = await provider(oauth2(), { store }).getAccessToken().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthConfigError);
      expect((err as Error).message).toContain(`chmod 700 ${dir}`);
      expect(hostile.requests).toHaveLength(0);
      chmodSync(dir, 0o700); // a safe directory, but the file is still someone else's
      const again = await provider(oauth2(), { store }).getAccessToken().catch((e: unknown) => e);
      expect((again as Error).message).toMatch(/belongs to uid 65534/);
      expect(hostile.requests).toHaveLength(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
