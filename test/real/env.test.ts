// Proves the real test environment (test/env): Prosody with X-MESSENGER-OAUTH2, the oidc-provider
// OAuth server (+ WRAP), the dnsmasq SRV server, the TCP proxy and the slixmpp peer. Speaks raw XMPP
// over sockets, independent of botrun's client.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createServer, connect, type Server } from "node:net";
import { Resolver } from "node:dns/promises";
import { createHash, randomBytes } from "node:crypto";
import { startProsody, type ProsodyHandle } from "../env/prosody.ts";
import { startOAuthServer, type OAuthServerHandle } from "../env/oauth-server.ts";
import { rawLogin, connectRaw, plainAuthText, type RawTarget } from "../env/raw-xmpp.ts";
import { startDns } from "../env/dns.ts";
import { startProxy } from "../env/tcp-proxy.ts";
import { startPeer } from "../env/slixmpp.ts";
import { pidAlive } from "../env/proc.ts";

const pids: number[] = [];
let prosody: ProsodyHandle;
let oauth: OAuthServerHandle;
let tls: RawTarget;
const issued: string[] = [];
/** Issues tokens and remembers them, so the log check can prove none was logged. */
async function issue(...args: Parameters<OAuthServerHandle["issueTokens"]>) {
  const t = await oauth.issueTokens(...args);
  issued.push(t.accessToken, t.refreshToken);
  return t;
}

beforeAll(async () => {
  oauth = await startOAuthServer({ accessTtl: 3600 });
  prosody = await startProsody({
    tls: "starttls",
    logLevel: "debug",
    smacksHibernationSeconds: 30,
    oauth: { introspectionUrl: oauth.introspectionUrl, clientId: oauth.introspectionClientId, clientSecret: oauth.introspectionClientSecret },
  });
  pids.push(prosody.pid);
  for (const [u, pw] of [["bot", "bot-pw"], ["alice", "alice-pw"], ["bob", "bob-pw"]] as const) await prosody.register(u, pw);
  tls = { host: prosody.host, port: prosody.c2sPort, domain: prosody.domain, security: "starttls", caFile: prosody.caFile };
});

afterAll(async () => {
  const log = await prosody.logTail(1_000_000);
  expect(log).toContain("Authenticated as bot@localhost");
  for (const t of issued) expect(log.includes(t), "a token appears in Prosody's log").toBe(false);
  await prosody?.stop();
  await oauth?.stop();
  for (const pid of pids) expect(pidAlive(pid), `pid ${pid} still running`).toBe(false);
});

describe("X-MESSENGER-OAUTH2 on Prosody", () => {
  it("accepts a raw token containing + / = byte for byte and binds the token's user", async () => {
    const t = await issue("bot", { style: "base64", accessTtl: 120 });
    expect(t.accessToken).toMatch(/\+/);
    expect(t.accessToken).toMatch(/\//);
    expect(t.accessToken).toMatch(/=$/);
    const r = await rawLogin(tls, "X-MESSENGER-OAUTH2", t.accessToken);
    r.conn.close();
    expect(r.mechanisms).toEqual(expect.arrayContaining(["X-MESSENGER-OAUTH2", "SCRAM-SHA-1", "PLAIN"]));
    expect(r.ok).toBe(true);
    expect(r.jid).toBe("bot@localhost/raw");
  });

  it("accepts a base64url JWT-shaped token, also over direct TLS", async () => {
    const t = await issue("alice", { style: "jwt", accessTtl: 120 });
    expect(t.accessToken.split(".")).toHaveLength(3);
    const r = await rawLogin({ ...tls, port: prosody.directTlsPort, security: "direct" }, "X-MESSENGER-OAUTH2", t.accessToken);
    r.conn.close();
    expect(r.ok).toBe(true);
    expect(r.jid).toBe("alice@localhost/raw");
  });

  it("rejects a wrong token, a base64-wrapped token and a revoked one with not-authorized", async () => {
    const wrong = await rawLogin(tls, "X-MESSENGER-OAUTH2", "not-a-token+/=");
    expect(wrong).toMatchObject({ ok: false, condition: "not-authorized" });
    const t = await issue("bot", { style: "base64", accessTtl: 120 });
    const wrapped = await rawLogin(tls, "X-MESSENGER-OAUTH2", Buffer.from(t.accessToken).toString("base64"));
    expect(wrapped).toMatchObject({ ok: false, condition: "not-authorized" });
    await oauth.revokeAccessToken(t.accessToken);
    const revoked = await rawLogin(tls, "X-MESSENGER-OAUTH2", t.accessToken);
    expect(revoked).toMatchObject({ ok: false, condition: "not-authorized" });
  });

  it("rejects a valid token whose user has no account", async () => {
    const t = await issue("nobody", { accessTtl: 120 });
    const r = await rawLogin(tls, "X-MESSENGER-OAUTH2", t.accessToken);
    expect(r).toMatchObject({ ok: false, condition: "not-authorized" });
  });

  it("closes the session with not-authorized when the token expires", async () => {
    const t = await issue("bot", { accessTtl: 2 });
    const r = await rawLogin(tls, "X-MESSENGER-OAUTH2", t.accessToken);
    expect(r.ok).toBe(true);
    const started = Date.now();
    const err = await r.conn.waitFor(/<stream:error>([\s\S]*?)<\/stream:error>/, 10_000);
    expect(err[1]).toContain("not-authorized");
    expect(err[1]).toContain("access token expired");
    await r.conn.closedPromise;
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it("moves a fresh token's expiry onto a session resumed with XEP-0198", async () => {
    const short = await issue("bob", { accessTtl: 3 });
    const first = await rawLogin(tls, "X-MESSENGER-OAUTH2", short.accessToken);
    expect(first.ok).toBe(true);
    first.conn.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    const enabled = await first.conn.waitFor(/<enabled[^>]*\bid=['"]([^'"]+)['"][^>]*\/?>/);
    first.conn.socket.destroy(); // connection lost: the session hibernates
    await first.conn.closedPromise;

    const fresh = await issue("bob", { accessTtl: 120 });
    const { conn, features } = await connectRaw(tls);
    expect(features).toContain("X-MESSENGER-OAUTH2");
    conn.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-MESSENGER-OAUTH2'>${fresh.accessToken}</auth>`);
    await conn.waitFor(/<success[^>]*\/>|<success[^>]*>[\s\S]*?<\/success>/);
    await conn.openStream(tls.domain);
    conn.send(`<resume xmlns='urn:xmpp:sm:3' h='0' previd='${enabled[1]}'/>`);
    await conn.waitFor(/<resumed[^>]*>/);
    // Past the first token's expiry (3 s) the resumed session must still answer a ping.
    const pastExpiry = short.expiresIn * 1000 + 1500;
    await new Promise((r) => setTimeout(r, pastExpiry));
    conn.send("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    await conn.waitFor(/<iq[^>]*id=['"]p1['"][^>]*type=['"]result['"]|<iq[^>]*type=['"]result['"][^>]*id=['"]p1['"]/);
    expect(conn.closed).toBe(false);
    conn.close();
  });
});

describe("password logins on the same server", () => {
  it("PLAIN over STARTTLS works with the raw client", async () => {
    const r = await rawLogin(tls, "PLAIN", plainAuthText("alice", "alice-pw"));
    r.conn.close();
    expect(r).toMatchObject({ ok: true, jid: "alice@localhost/raw" });
    const bad = await rawLogin(tls, "PLAIN", plainAuthText("alice", "wrong"));
    expect(bad).toMatchObject({ ok: false, condition: "not-authorized" });
  });

  it("SCRAM-SHA-1 and PLAIN work from slixmpp, and messages flow between peers", async () => {
    const bob = startPeer({ jid: "bob@localhost/peer", password: "bob-pw", port: prosody.c2sPort, caFile: prosody.caFile, mechanism: "PLAIN" });
    const alice = startPeer({ jid: "alice@localhost/peer", password: "alice-pw", port: prosody.c2sPort, caFile: prosody.caFile, mechanism: "SCRAM-SHA-1" });
    pids.push(bob.pid, alice.pid);
    try {
      expect((await bob.waitFor("online")).jid).toBe("bob@localhost/peer");
      expect((await alice.waitFor("online")).jid).toBe("alice@localhost/peer");
      alice.send("bob@localhost/peer", "hello bob");
      const got = await bob.waitFor("message");
      expect(got).toMatchObject({ from: "alice@localhost/peer", body: "hello bob" });
    } finally {
      await Promise.all([bob.stop(), alice.stop()]);
    }
    const wrong = startPeer({ jid: "bob@localhost/x", password: "nope", port: prosody.c2sPort, caFile: prosody.caFile, mechanism: "SCRAM-SHA-1" });
    pids.push(wrong.pid);
    try {
      expect((await wrong.waitFor("error")).condition).toBe("not-authorized");
    } finally {
      await wrong.stop();
    }
  });

  it("restart() keeps ports and accounts", async () => {
    const before = { c2s: prosody.c2sPort, pid: prosody.pid };
    await prosody.restart();
    pids.push(prosody.pid);
    expect(prosody.pid).not.toBe(before.pid);
    expect(pidAlive(before.pid)).toBe(false);
    expect(prosody.c2sPort).toBe(before.c2s);
    const r = await rawLogin(tls, "PLAIN", plainAuthText("bob", "bob-pw"));
    r.conn.close();
    expect(r.ok).toBe(true);
  });
});

describe("OAuth server", () => {
  const form = (fields: Record<string, string>) => ({
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  const refresh = (refreshToken: string) =>
    fetch(oauth.tokenUrl, form({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: oauth.clientId, client_secret: oauth.clientSecret }));
  const introspect = async (token: string) => {
    const r = await fetch(oauth.introspectionUrl, {
      ...form({ token }),
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`${oauth.introspectionClientId}:${oauth.introspectionClientSecret}`).toString("base64")}`,
      },
    });
    return (await r.json()) as { active: boolean; sub?: string; exp?: number };
  };

  it("refresh_token grant rotates the refresh token; a revoked one gives invalid_grant", async () => {
    const t = await issue("bot", { accessTtl: 60 });
    const before = oauth.stats.tokenRequests;
    const r1 = await refresh(t.refreshToken);
    expect(r1.status).toBe(200);
    const b1 = (await r1.json()) as { access_token: string; refresh_token: string; expires_in: number; token_type: string };
    expect(oauth.stats.tokenRequests).toBe(before + 1);
    expect(b1.token_type).toBe("Bearer");
    expect(b1.refresh_token).toBeTruthy();
    expect(b1.refresh_token).not.toBe(t.refreshToken);
    expect(b1.access_token).not.toBe(t.accessToken);
    expect(await introspect(b1.access_token)).toMatchObject({ active: true, sub: "bot" });

    await oauth.revoke(b1.refresh_token);
    const r2 = await refresh(b1.refresh_token);
    expect(r2.status).toBe(400);
    expect(((await r2.json()) as { error: string }).error).toBe("invalid_grant");
  });

  it("token endpoint honours the access-token TTL and style policy, and setDown gives 503", async () => {
    oauth.setAccessTokenPolicy({ accessTtl: 5, style: "base64" });
    try {
      const t = await issue("bot");
      const r = await refresh(t.refreshToken);
      const b = (await r.json()) as { access_token: string; expires_in: number };
      expect(b.expires_in).toBe(5);
      expect(b.access_token).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(b.access_token).toMatch(/[+/]/);
      const login = await rawLogin(tls, "X-MESSENGER-OAUTH2", b.access_token);
      login.conn.close();
      expect(login.ok).toBe(true);
    } finally {
      oauth.setAccessTokenPolicy({ accessTtl: 3600, style: "opaque" });
    }
    const t = await issue("bot");
    oauth.setDown(true);
    try {
      expect((await refresh(t.refreshToken)).status).toBe(503);
    } finally {
      oauth.setDown(false);
    }
    expect((await refresh(t.refreshToken)).status).toBe(200);
  });

  it("authorization_code flow with PKCE completes non-interactively on a loopback redirect", async () => {
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const redirect = "http://127.0.0.1:45678/callback";
    const url = new URL(oauth.authorizeUrl);
    url.search = new URLSearchParams({
      client_id: oauth.clientId, response_type: "code", redirect_uri: redirect, scope: "openid offline_access wl.messenger",
      state: "s-123", code_challenge: challenge, code_challenge_method: "S256", prompt: "consent",
    }).toString();
    const done = await oauth.completeAuthorization(url.toString());
    expect(done.location.startsWith(redirect)).toBe(true);
    expect(done.state).toBe("s-123");
    expect(done.code).toBeTruthy();
    const r = await fetch(oauth.tokenUrl, form({
      grant_type: "authorization_code", code: done.code!, redirect_uri: redirect, code_verifier: verifier,
      client_id: oauth.clientId, client_secret: oauth.clientSecret,
    }));
    const b = (await r.json()) as { access_token: string; refresh_token?: string };
    expect(r.status).toBe(200);
    expect(b.refresh_token).toBeTruthy();
    expect(await introspect(b.access_token)).toMatchObject({ active: true, sub: "bot" });
  });

  it("WRAP: verification code → tokens, refresh works, errors are form-encoded", async () => {
    const code = oauth.issueWrapVerificationCode("bot");
    const r = await fetch(oauth.wrapAccessTokenUrl, form({
      wrap_client_id: oauth.clientId, wrap_client_secret: oauth.clientSecret, wrap_callback: oauth.redirectUri, wrap_verification_code: code, idtype: "CID",
    }));
    expect(r.status).toBe(200);
    const f = new URLSearchParams(await r.text());
    const refreshToken = f.get("wrap_refresh_token")!;
    expect(f.get("wrap_access_token")).toBeTruthy();
    expect(Number(f.get("wrap_access_token_expires_in"))).toBeGreaterThan(0);
    expect(await introspect(f.get("wrap_access_token")!)).toMatchObject({ active: true, sub: "bot" });

    const r2 = await fetch(oauth.wrapRefreshUrl, form({ wrap_refresh_token: refreshToken }));
    expect(r2.status).toBe(200);
    const f2 = new URLSearchParams(await r2.text());
    expect(f2.get("wrap_access_token")).not.toBe(f.get("wrap_access_token"));
    const login = await rawLogin(tls, "X-MESSENGER-OAUTH2", f2.get("wrap_access_token")!);
    login.conn.close();
    expect(login).toMatchObject({ ok: true, jid: "bot@localhost/raw" });

    const reused = await fetch(oauth.wrapAccessTokenUrl, form({ wrap_client_id: oauth.clientId, wrap_client_secret: oauth.clientSecret, wrap_verification_code: code }));
    expect(reused.status).toBe(400);
    expect(new URLSearchParams(await reused.text()).get("wrap_error_reason")).toBe("expired_verification_code");
    await oauth.revoke(refreshToken);
    const r3 = await fetch(oauth.wrapRefreshUrl, form({ wrap_refresh_token: refreshToken }));
    expect(r3.status).toBe(401);
    expect(new URLSearchParams(await r3.text()).get("error_code")).toBeTruthy();
  });
});

describe("DNS and TCP proxy", () => {
  it("answers SRV and A records from dnsmasq on loopback", async () => {
    const dns = await startDns({ srv: [
      { name: "_xmpp-client._tcp.messenger.test", target: "xmpp.messenger.test", port: prosody.c2sPort, priority: 5, weight: 10 },
    ] });
    pids.push(dns.pid);
    try {
      const resolver = new Resolver();
      resolver.setServers([`127.0.0.1:${dns.port}`]);
      expect(await resolver.resolveSrv("_xmpp-client._tcp.messenger.test")).toEqual([
        { name: "xmpp.messenger.test", port: prosody.c2sPort, priority: 5, weight: 10 },
      ]);
      expect(await resolver.resolve4("xmpp.messenger.test")).toEqual(["127.0.0.1"]);
    } finally {
      await dns.stop();
    }
  });

  it("blackhole stops bytes both ways while keeping the socket open; dropAll closes it", async () => {
    const echo: Server = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const proxy = await startProxy("127.0.0.1", (echo.address() as { port: number }).port);
    const sock = connect({ host: "127.0.0.1", port: proxy.port });
    let received = "";
    const waiters = new Set<() => void>();
    sock.on("data", (d) => { received += d.toString(); for (const w of [...waiters]) w(); });
    const until = (cond: () => boolean, ms: number) => new Promise<boolean>((resolve) => {
      const check = () => { if (cond()) { waiters.delete(check); clearTimeout(t); resolve(true); } };
      const t = setTimeout(() => { waiters.delete(check); resolve(false); }, ms);
      waiters.add(check);
      check();
    });
    try {
      await new Promise<void>((r) => sock.once("connect", () => r()));
      sock.write("one");
      expect(await until(() => received === "one", 2000)).toBe(true);
      proxy.blackhole(true);
      const forwarded = proxy.bytesForwarded;
      sock.write("two");
      expect(await until(() => received.length > 3, 400)).toBe(false); // nothing may arrive
      expect(proxy.bytesForwarded).toBe(forwarded);
      expect(sock.destroyed).toBe(false);
      proxy.blackhole(false);
      sock.write("three");
      expect(await until(() => received === "onethree", 2000)).toBe(true);
      const closed = new Promise<void>((r) => sock.once("close", () => r()));
      proxy.dropAll();
      await closed;
      expect(proxy.connections()).toBe(0);
    } finally {
      sock.destroy();
      await proxy.stop();
      await new Promise<void>((r) => echo.close(() => r()));
    }
  });
});

describe("Prosody without TLS (tls: none) and the peer's echo counting", () => {
  let plain: ProsodyHandle;
  beforeAll(async () => {
    plain = await startProsody({
      tls: "none",
      oauth: { introspectionUrl: oauth.introspectionUrl, clientId: oauth.introspectionClientId, clientSecret: oauth.introspectionClientSecret },
    });
    pids.push(plain.pid);
    await plain.register("bot", "bot-pw");
    await plain.register("alice", "alice-pw");
  });
  afterAll(async () => {
    await plain?.stop();
  });

  it("offers no STARTTLS, accepts PLAIN and tokens over plain TCP, and still serves direct TLS", async () => {
    const target: RawTarget = { host: plain.host, port: plain.c2sPort, domain: plain.domain, security: "none" };
    const { conn, features } = await connectRaw(target);
    conn.close();
    expect(features).not.toContain("starttls");
    const pw = await rawLogin(target, "PLAIN", plainAuthText("alice", "alice-pw"));
    pw.conn.close();
    expect(pw).toMatchObject({ ok: true, jid: "alice@localhost/raw" });
    const t = await issue("bot", { style: "base64", accessTtl: 120 });
    const tok = await rawLogin(target, "X-MESSENGER-OAUTH2", t.accessToken);
    tok.conn.close();
    expect(tok).toMatchObject({ ok: true, jid: "bot@localhost/raw" });
    const direct = await rawLogin({ ...target, port: plain.directTlsPort, security: "direct", caFile: plain.caFile }, "PLAIN", plainAuthText("bot", "bot-pw"));
    direct.conn.close();
    expect(direct.ok).toBe(true);
  });

  it("the slixmpp peer sends with a window and counts echoes from a raw token-authenticated echo", async () => {
    const t = await issue("bot", { accessTtl: 120 });
    const bot = await rawLogin({ host: plain.host, port: plain.c2sPort, domain: plain.domain, security: "none" }, "X-MESSENGER-OAUTH2", t.accessToken);
    expect(bot.ok).toBe(true);
    bot.conn.send("<presence/>");
    const count = 6;
    const echoLoop = (async () => {
      for (let i = 0; i < count; i++) {
        const m = await bot.conn.waitFor(/<message[^>]*\bfrom=['"]([^'"]+)['"][^>]*>[\s\S]*?<body>([^<]*)<\/body>[\s\S]*?<\/message>/, 20_000);
        bot.conn.send(`<message to='${m[1]}' type='chat'><body>echo ${m[2]}</body></message>`);
      }
    })();
    const peer = startPeer({
      jid: "alice@localhost/bench", password: "alice-pw", port: plain.c2sPort, security: "none", mechanism: "PLAIN",
      to: "bot@localhost", count, window: 3, timeoutSeconds: 20,
    });
    pids.push(peer.pid);
    try {
      const done = await peer.waitFor("done", 25_000);
      await echoLoop;
      expect(done).toMatchObject({ sent: count, received: count, timed_out: false });
      const replies = peer.events.filter((e) => e.event === "reply");
      expect(replies).toHaveLength(count);
      expect(replies.map((e) => (e as { body: string }).body).sort()).toEqual(
        Array.from({ length: count }, (_, i) => `echo ping #${i + 1}`).sort(),
      );
    } finally {
      await peer.stop();
      bot.conn.close();
    }
  });
});
