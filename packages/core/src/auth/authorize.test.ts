/** Tests of the authorization-code flow with a real loopback consent server, callback server and pasted input. */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../config/errors.ts";
import { runAuthCommand } from "../cli/commands/auth.ts";
import { AuthorizationError, runAuthorizationFlow } from "./authorize.ts";
import { FileTokenStore } from "./file-store.ts";
import { MemoryTokenStore } from "./memory-store.ts";
import { OAuth2TokenEndpoint } from "./oauth2-endpoint.ts";
import { startTokenServer, type TestTokenServer } from "../../test-support/token-server.ts";
import { WrapTokenEndpoint } from "./wrap-endpoint.ts";

const SECRET = "client-secret-SECRET-42";
let tokens: TestTokenServer;
let consent: Server;
let consentBase: string;
/** The last consent request's query. */
let lastConsent: URLSearchParams | undefined;
/** What the consent server does: redirect with a code (default), or with an error. */
let consentMode: "code" | "deny" | "wrong-state" = "code";

beforeEach(async () => {
  consentMode = "code";
  lastConsent = undefined;
  tokens = await startTokenServer((req) => {
    const q = lastConsent;
    if (req.form.code_verifier && q?.get("code_challenge") !== createHash("sha256").update(req.form.code_verifier).digest("base64url")) {
      return { status: 400, json: { error: "invalid_grant", error_description: "PKCE mismatch" } };
    }
    if (req.form.wrap_verification_code) return { status: 200, form: { wrap_access_token: "WAT-1", wrap_access_token_expires_in: "3600", wrap_refresh_token: "WRT-1" } };
    return { status: 200, json: { access_token: "AT-1", expires_in: 3600, refresh_token: "RT-1" } };
  });
  consent = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    lastConsent = url.searchParams;
    const wrap = url.searchParams.has("wrap_callback");
    const back = new URL(url.searchParams.get(wrap ? "wrap_callback" : "redirect_uri") ?? "http://invalid");
    if (consentMode === "deny") {
      back.searchParams.set("error", "access_denied");
      back.searchParams.set("state", url.searchParams.get("state") ?? ""); // RFC 6749 §4.1.2.1
    }
    else if (wrap) back.searchParams.set("wrap_verification_code", "VCODE-1");
    else {
      back.searchParams.set("code", "CODE-1");
      back.searchParams.set("state", consentMode === "wrong-state" ? "forged" : (url.searchParams.get("state") ?? ""));
    }
    res.writeHead(302, { location: back.toString() }).end();
  });
  await new Promise<void>((r) => consent.listen(0, "127.0.0.1", r));
  consentBase = `http://127.0.0.1:${(consent.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await tokens.close();
  consent.closeAllConnections();
  await new Promise((r) => consent.close(r));
});

/** A browser stand-in: follows the consent redirect to the callback server and reports the final status. */
function browser(): { opener: (url: string) => Promise<void>; pages: Array<{ status: number; body: string }> } {
  const pages: Array<{ status: number; body: string }> = [];
  return {
    pages,
    opener: async (url) => {
      const res = await fetch(url);
      pages.push({ status: res.status, body: await res.text() });
    },
  };
}

function collector(): { out: (l: string) => void; lines: string[]; waitFor: (re: RegExp) => Promise<string> } {
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  return {
    lines,
    out: (l) => {
      lines.push(l);
      for (const w of waiters.splice(0)) w();
    },
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no output line matching ${re}`)), 5000);
        const check = () => {
          const hit = lines.find((l) => re.test(l));
          if (hit) {
            clearTimeout(t);
            resolve(hit);
          } else waiters.push(check);
        };
        check();
      }),
  };
}

const oauth2 = () => new OAuth2TokenEndpoint({ tokenUrl: tokens.url, clientId: "cid", clientSecret: SECRET });
const base = () => ({ flavor: "oauth2" as const, clientId: "cid", exchanger: oauth2(), store: new MemoryTokenStore(), accountKey: "echo" });

describe("runAuthorizationFlow", () => {
  it("OAuth 2.0: consent URL → callback server → PKCE code exchange → tokens stored", async () => {
    const store = new MemoryTokenStore();
    const b = browser();
    const c = collector();
    const r = await runAuthorizationFlow({
      ...base(),
      store,
      authorizeUrl: `${consentBase}/authorize`,
      input: null,
      opener: b.opener,
      output: c.out,
    });
    expect(r.via).toBe("callback");
    expect(r.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect((await store.load("echo"))?.refreshToken).toBe("RT-1");
    expect(lastConsent?.get("response_type")).toBe("code");
    expect(lastConsent?.get("scope")).toBe("wl.messenger wl.offline_access");
    expect(lastConsent?.get("code_challenge_method")).toBe("S256");
    expect(tokens.requests[0]?.form).toMatchObject({ grant_type: "authorization_code", code: "CODE-1", redirect_uri: r.redirectUri, client_secret: SECRET });
    await expect.poll(() => b.pages[0]?.status).toBe(200);
    expect(b.pages[0]?.body).toMatch(/authorized/);
    const printed = c.lines.join("\n");
    for (const s of [SECRET, "AT-1", "RT-1"]) expect(printed).not.toContain(s);
    // The callback server is gone.
    await expect(fetch(r.redirectUri)).rejects.toThrow();
  });

  it("ignores a callback with a forged state and keeps waiting", async () => {
    consentMode = "wrong-state";
    const b = browser();
    const c = collector();
    const input = new PassThrough();
    const flow = runAuthorizationFlow({
      ...base(),
      authorizeUrl: `${consentBase}/authorize`,
      input,
      opener: b.opener,
      output: c.out,
    });
    await c.waitFor(/ignored a callback request \(state mismatch\)/);
    await expect.poll(() => b.pages[0]?.status).toBe(400);
    expect(tokens.requests).toHaveLength(0);
    input.write("CODE-pasted\n");
    expect((await flow).via).toBe("paste");
    expect(tokens.requests[0]?.form.code).toBe("CODE-pasted");
  });

  it("paste-only with a non-loopback redirect URI: a forged pasted URL is ignored, the real one wins", async () => {
    const store = new MemoryTokenStore();
    const c = collector();
    const input = new PassThrough();
    const flow = runAuthorizationFlow({
      ...base(),
      store,
      redirectUri: "https://login.live.com/oauth20_desktop.srf",
      authorizeUrl: `${consentBase}/authorize`,
      input,
      opener: false,
      output: c.out,
    });
    const urlLine = await c.waitFor(/^\s+http/);
    const state = new URL(urlLine.trim()).searchParams.get("state");
    expect(state).toBeTruthy();
    lastConsent = new URL(urlLine.trim()).searchParams; // the token server checks PKCE against it
    input.write("https://login.live.com/oauth20_desktop.srf?code=EVIL&state=forged\n");
    await c.waitFor(/ignored pasted input \(state mismatch\)/);
    input.write(`https://login.live.com/oauth20_desktop.srf?code=GOOD&state=${state}\n`);
    const r = await flow;
    expect(r.via).toBe("paste");
    expect(r.redirectUri).toBe("https://login.live.com/oauth20_desktop.srf");
    expect(tokens.requests).toHaveLength(1);
    expect(tokens.requests[0]?.form).toMatchObject({ code: "GOOD", redirect_uri: "https://login.live.com/oauth20_desktop.srf" });
    expect((await store.load("echo"))?.accessToken).toBe("AT-1");
  });

  it("a refusal at the consent page fails with AuthorizationError", async () => {
    consentMode = "deny";
    const b = browser();
    const err = await runAuthorizationFlow({
      ...base(),
      authorizeUrl: `${consentBase}/authorize`,
      input: null,
      opener: b.opener,
      output: () => undefined,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthorizationError);
    expect((err as AuthorizationError).code).toBe("access_denied");
  });

  it("times out cleanly", async () => {
    const err = await runAuthorizationFlow({
      ...base(),
      input: null,
      opener: false,
      output: () => undefined,
      timeoutMs: 150,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthorizationError);
    expect((err as AuthorizationError).code).toBe("timeout");
  });

  it("WRAP: state travels in wrap_callback; the verification code is exchanged with the same callback", async () => {
    const store = new MemoryTokenStore();
    const b = browser();
    const r = await runAuthorizationFlow({
      flavor: "wrap",
      clientId: "wcid",
      exchanger: new WrapTokenEndpoint({ accessTokenUrl: tokens.url, clientId: "wcid", clientSecret: SECRET }),
      store,
      accountKey: "echo",
      authorizeUrl: `${consentBase}/Connect.aspx`,
      input: null,
      opener: b.opener,
      output: () => undefined,
    });
    expect(r.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?state=/);
    expect(lastConsent?.get("wrap_client_id")).toBe("wcid");
    expect(lastConsent?.get("wrap_callback")).toBe(r.redirectUri);
    expect(tokens.requests[0]?.form).toEqual({
      wrap_client_id: "wcid",
      wrap_client_secret: SECRET,
      wrap_callback: r.redirectUri,
      wrap_verification_code: "VCODE-1",
      idtype: "CID",
    });
    expect(await store.load("echo")).toMatchObject({ accessToken: "WAT-1", refreshToken: "WRT-1" });
  });
});

describe("runAuthCommand", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "botrun-auth-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads OAUTH_* settings and writes the token file 0600 under the bot's key", async () => {
    const b = browser();
    const c = collector();
    await runAuthCommand({
      botName: "echo",
      env: {
        OAUTH_CLIENT_ID: "cid",
        OAUTH_CLIENT_SECRET: SECRET,
        OAUTH_TOKEN_URL: tokens.url,
        OAUTH_AUTHORIZE_URL: `${consentBase}/authorize`,
        BOTRUN_TOKEN_STORE: `file:${dir}`,
      },
      input: null,
      opener: b.opener,
      output: c.out,
    });
    const file = new FileTokenStore(dir).fileFor("echo");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ accessToken: "AT-1", refreshToken: "RT-1" });
    expect(c.lines.at(-1)).toBe(`Authorized echo: tokens stored in ${file}.`);
    for (const s of [SECRET, "AT-1", "RT-1"]) expect(c.lines.join("\n")).not.toContain(s);
  });

  it("names the missing setting", async () => {
    const err = await runAuthCommand({ botName: "echo", env: {}, input: null, opener: false, output: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe("OAUTH_CLIENT_ID");
  });
});
