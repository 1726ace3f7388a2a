// A real OAuth 2.0 authorization server for tests: oidc-provider 9, in-process, on 127.0.0.1:0.
// Offers authorization_code (auto login + consent, no UI), refresh_token with rotation, RFC 7662
// introspection, RFC 7009 revocation, a short configurable access-token TTL, token "styles"
// (opaque, standard base64 with + / =, JWT-shaped base64url), an outage switch, and the legacy
// OAuth WRAP pair (/wrap/access_token, /wrap/refresh) whose tokens introspection also accepts,
// and the RFC 8628 device authorization grant (./oauth-device.ts).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { DEVICE_GRANT, DEVICE_PAGES, installDeviceFlow, type DeviceFlowControl } from "./oauth-device.ts";

/** Shape of issued access-token values. */
export type TokenStyle = "opaque" | "base64" | "jwt";

/** Options for {@link startOAuthServer}. */
export interface OAuthServerOptions {
  /** Access-token lifetime in seconds for tokens from the token endpoint; default 3600. */
  accessTtl?: number;
  /** Refresh-token lifetime in seconds; default 14 days. */
  refreshTtl?: number;
  /** Shape of access tokens from the token endpoint; default "opaque". */
  tokenStyle?: TokenStyle;
  /** User that the authorization endpoint logs in automatically; default "bot". */
  loginUser?: string;
  /** How the app client authenticates at the token endpoint; default "client_secret_post". */
  tokenEndpointAuthMethod?: "client_secret_post" | "client_secret_basic" | "none";
  /** Registered redirect URI (loopback; any port is accepted); default "http://127.0.0.1/callback". */
  redirectUri?: string;
  /** Device flow: `interval` sent to clients (s, default 1) and device code lifetime (s, default 600). */
  device?: { interval?: number; codeTtl?: number };
}

/** Tokens minted by {@link OAuthServerHandle.issueTokens}. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

/** A running OAuth server. */
export interface OAuthServerHandle {
  issuer: string;
  tokenUrl: string;
  authorizeUrl: string;
  /** RFC 8628 device authorization endpoint. */
  deviceAuthorizationUrl: string;
  /** Device-flow switches (interval, code lifetime, forced slow_down), polls seen, approve/deny. */
  device: DeviceFlowControl;
  introspectionUrl: string;
  revocationUrl: string;
  wrapAccessTokenUrl: string;
  wrapRefreshUrl: string;
  /** The app client (authorization_code, device_code, refresh_token). */
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Confidential client for the resource server (Prosody) to call introspection with HTTP Basic. */
  introspectionClientId: string;
  introspectionClientSecret: string;
  /** Mints a grant, an access token and a refresh token for `userId` without any HTTP round trip. */
  issueTokens(userId: string, opts?: { accessTtl?: number; style?: TokenStyle; scope?: string }): Promise<IssuedTokens>;
  /** A one-time WRAP verification code for `userId` (exchange it at /wrap/access_token). */
  issueWrapVerificationCode(userId: string): string;
  /** Revokes a refresh token (OAuth 2.0 or WRAP); using it afterwards gives invalid_grant. */
  revoke(refreshToken: string): Promise<void>;
  /** Makes the access token inactive for introspection. */
  revokeAccessToken(accessToken: string): Promise<void>;
  /** While true, the token endpoint and the WRAP endpoints answer 503. */
  setDown(down: boolean): void;
  /** Changes the TTL (seconds) and style of access tokens issued by the token endpoint from now on. */
  setAccessTokenPolicy(p: { accessTtl?: number; style?: TokenStyle }): void;
  /** Changes the user the authorization endpoint logs in. */
  setLoginUser(userId: string): void;
  /**
   * Follows an authorization URL through auto-login and consent (with cookies) and returns the final
   * redirect to the client's redirect URI; with `deliver: true` it also GETs that URL (hitting the
   * client's loopback listener) and reports its status.
   */
  completeAuthorization(url: string, opts?: { deliver?: boolean }): Promise<{ location: string; code?: string; state?: string; deliveredStatus?: number }>;
  stop(): Promise<void>;
  stats: { tokenRequests: number; introspectionRequests: number; wrapRequests: number };
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** A random token value in the given style. */
export function styledToken(style: TokenStyle): string {
  if (style === "base64") {
    // 31 random bytes → 44 chars ending in "="; retry until both "+" and "/" occur.
    for (;;) {
      const v = randomBytes(31).toString("base64");
      if (v.includes("+") && v.includes("/")) return v;
    }
  }
  if (style === "jwt") {
    const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
    const payload = b64url(JSON.stringify({ jti: b64url(randomBytes(12)), iat: Math.floor(Date.now() / 1000) }));
    return `${header}.${payload}.${b64url(randomBytes(32))}`;
  }
  return b64url(randomBytes(32));
}

async function readBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function sendForm(res: ServerResponse, status: number, fields: Record<string, string | number>): void {
  const body = new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString();
  res.writeHead(status, { "content-type": "application/x-www-form-urlencoded", "cache-control": "no-store" });
  res.end(body);
}

/** Starts the server; see {@link OAuthServerOptions}. */
export async function startOAuthServer(opts: OAuthServerOptions = {}): Promise<OAuthServerHandle> {
  let accessTtl = opts.accessTtl ?? 3600;
  let tokenStyle: TokenStyle = opts.tokenStyle ?? "opaque";
  let loginUser = opts.loginUser ?? "bot";
  let down = false;
  const stats = { tokenRequests: 0, introspectionRequests: 0, wrapRequests: 0 };
  const clientId = "botrun-test-app";
  const clientSecret = b64url(randomBytes(24));
  const introspectionClientId = "prosody-introspector";
  const introspectionClientSecret = b64url(randomBytes(24));
  const redirectUri = opts.redirectUri ?? "http://127.0.0.1/callback";
  const wrapCodes = new Map<string, string>(); // verification code → user
  const wrapRefresh = new Map<string, string>(); // WRAP refresh token → user

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => { r.statusCode = 503; r.end(); };
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: "test", use: "sig", alg: "RS256" };

  let device: DeviceFlowControl | undefined;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId, client_secret: clientSecret, application_type: "native",
        redirect_uris: [redirectUri], grant_types: ["authorization_code", "refresh_token", DEVICE_GRANT], response_types: ["code"],
        token_endpoint_auth_method: opts.tokenEndpointAuthMethod ?? "client_secret_post",
      },
      {
        client_id: introspectionClientId, client_secret: introspectionClientSecret,
        redirect_uris: [], grant_types: [], response_types: [], token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [b64url(randomBytes(32))] },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    scopes: ["openid", "offline_access", "wl.messenger", "wl.offline_access", "wl.basic"],
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true },
      deviceFlow: { enabled: true, ...DEVICE_PAGES },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: () => accessTtl,
      RefreshToken: opts.refreshTtl ?? 14 * 24 * 3600,
      AuthorizationCode: 60,
      Grant: 30 * 24 * 3600,
      Session: 24 * 3600,
      Interaction: 600,
      IdToken: 3600,
      DeviceCode: () => device?.codeTtl ?? 600,
    },
  });
  provider.on("server_error", () => { /* errors reach the HTTP client; keep test output free of tokens */ });
  const deviceFlow = installDeviceFlow(provider, issuer, opts.device);
  device = deviceFlow;

  // Token endpoint access tokens follow the current style; the original id generator sets `format`.
  const AT = provider.AccessToken.prototype as unknown as { generateTokenId: (this: unknown) => string };
  const origGenerate = AT.generateTokenId;
  AT.generateTokenId = function (this: unknown) {
    const id = origGenerate.call(this);
    return tokenStyle === "opaque" ? id : styledToken(tokenStyle);
  };

  async function mint(userId: string, ttl: number, style: TokenStyle, scope: string): Promise<IssuedTokens> {
    const grant = new provider.Grant({ accountId: userId, clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    const client = await provider.Client.find(clientId);
    if (!client) throw new Error("oauth-server: app client missing");
    const at = new provider.AccessToken({ accountId: userId, client, grantId, scope, gty: "authorization_code", expiresIn: ttl });
    if (style !== "opaque") {
      at.jti = styledToken(style);
      (at as unknown as { format: string }).format = "opaque";
    }
    const accessToken = await at.save();
    const rt = new provider.RefreshToken({
      accountId: userId, client, grantId, scope, gty: "authorization_code",
      iiat: Math.floor(Date.now() / 1000), expiresWithSession: false,
    });
    const refreshToken = await rt.save();
    return { accessToken, refreshToken, expiresIn: ttl };
  }

  async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const prompt = details.prompt as { name: string; details: Record<string, unknown> };
    if (prompt.name === "login") {
      await provider.interactionFinished(req, res, { login: { accountId: loginUser } }, { mergeWithLastSubmission: false });
      return;
    }
    const accountId = details.session?.accountId ?? loginUser;
    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    const d = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(" "));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(" "));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  // RFC 7662 introspection, answered here rather than by oidc-provider, which refuses JWT-shaped
  // values ("Structured JWT Tokens cannot be introspected") even when they are opaque to it.
  async function introspect(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readBody(req);
    const json = (status: number, body: object) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };
    let id = form.get("client_id") ?? "";
    let secret = form.get("client_secret") ?? "";
    const auth = req.headers.authorization ?? "";
    if (auth.startsWith("Basic ")) {
      const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      id = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    const known = (id === introspectionClientId && secret === introspectionClientSecret) || (id === clientId && secret === clientSecret);
    if (!known) { json(401, { error: "invalid_client" }); return; }
    const value = form.get("token");
    if (!value) { json(400, { error: "invalid_request", error_description: "missing token" }); return; }
    const token = form.get("token_type_hint") === "refresh_token"
      ? (await provider.RefreshToken.find(value)) ?? (await provider.AccessToken.find(value))
      : (await provider.AccessToken.find(value)) ?? (await provider.RefreshToken.find(value));
    const grant = token?.grantId ? await provider.Grant.find(token.grantId) : undefined;
    if (!token || !token.isValid || !grant || (token as { consumed?: unknown }).consumed) { json(200, { active: false }); return; }
    json(200, {
      active: true, sub: token.accountId, username: token.accountId, client_id: token.clientId,
      scope: token.scope, exp: token.exp, iat: token.iat, iss: issuer,
      token_type: token.kind === "AccessToken" ? "Bearer" : "refresh_token",
    });
  }

  async function wrap(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    stats.wrapRequests++;
    if (down) { sendForm(res, 503, { error_code: 503, wrap_error_reason: "service_unavailable" }); return; }
    if (req.method !== "POST") { sendForm(res, 400, { error_code: 1000, wrap_error_reason: "invalid_request" }); return; }
    const form = await readBody(req);
    let user: string | undefined;
    let refresh: string;
    if (path === "/wrap/access_token") {
      const code = form.get("wrap_verification_code");
      if (!code) { sendForm(res, 400, { error_code: 1000, wrap_error_reason: "missing_verification_code" }); return; }
      if (form.get("wrap_client_id") !== clientId || form.get("wrap_client_secret") !== clientSecret) {
        sendForm(res, 401, { error_code: 1001, wrap_error_reason: "invalid_client" });
        return;
      }
      user = wrapCodes.get(code);
      wrapCodes.delete(code);
      if (!user) { sendForm(res, 400, { error_code: 1003, wrap_error_reason: "expired_verification_code" }); return; }
      refresh = styledToken("opaque");
      wrapRefresh.set(refresh, user);
    } else {
      refresh = form.get("wrap_refresh_token") ?? "";
      if (!refresh) { sendForm(res, 400, { error_code: 1000, wrap_error_reason: "missing_refresh_token" }); return; }
      user = wrapRefresh.get(refresh);
      if (!user) { sendForm(res, 401, { error_code: 1101, wrap_error_reason: "invalid_refresh_token" }); return; }
    }
    const minted = await mint(user, accessTtl, tokenStyle, "openid wl.messenger");
    await (await provider.RefreshToken.find(minted.refreshToken))?.destroy(); // WRAP keeps its own refresh token
    sendForm(res, 200, { wrap_access_token: minted.accessToken, wrap_access_token_expires_in: minted.expiresIn, wrap_refresh_token: refresh });
  }

  const callback = provider.callback();
  handler = (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const fail = () => { if (!res.headersSent) { res.statusCode = 500; } res.end(); };
    if (path === "/token") {
      stats.tokenRequests++;
      if (down) {
        res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
        res.end(JSON.stringify({ error: "temporarily_unavailable" }));
        return;
      }
    }
    if (path === "/token/introspection") {
      stats.introspectionRequests++;
      introspect(req, res).catch(fail);
      return;
    }
    if (path.startsWith("/interaction/")) { interaction(req, res).catch(fail); return; }
    if (path === "/wrap/access_token" || path === "/wrap/refresh") { wrap(req, res, path).catch(fail); return; }
    callback(req, res);
  };

  async function completeAuthorization(url: string, o: { deliver?: boolean } = {}) {
    const jar = new Map<string, string>();
    let next = url;
    for (let hop = 0; hop < 10; hop++) {
      const target = new URL(next, issuer);
      if (target.origin !== issuer) {
        const location = target.toString();
        const result: { location: string; code?: string; state?: string; deliveredStatus?: number } = { location };
        const code = target.searchParams.get("code");
        const state = target.searchParams.get("state");
        if (code) result.code = code;
        if (state) result.state = state;
        if (o.deliver) {
          const r = await fetch(location, { redirect: "manual" });
          await r.arrayBuffer();
          result.deliveredStatus = r.status;
        }
        return result;
      }
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
      const r = await fetch(target, { redirect: "manual", headers: cookie ? { cookie } : {} });
      for (const c of r.headers.getSetCookie()) {
        const [pair] = c.split(";");
        const eq = pair!.indexOf("=");
        jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
      }
      await r.arrayBuffer();
      const loc = r.headers.get("location");
      if (!loc) throw new Error(`authorization stopped at ${target.pathname} with HTTP ${r.status}`);
      next = loc;
    }
    throw new Error("authorization: too many redirects");
  }

  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    authorizeUrl: `${issuer}/auth`,
    deviceAuthorizationUrl: `${issuer}/device/auth`,
    device: deviceFlow,
    introspectionUrl: `${issuer}/token/introspection`,
    revocationUrl: `${issuer}/token/revocation`,
    wrapAccessTokenUrl: `${issuer}/wrap/access_token`,
    wrapRefreshUrl: `${issuer}/wrap/refresh`,
    clientId, clientSecret, redirectUri, introspectionClientId, introspectionClientSecret,
    stats,
    issueTokens: (userId, o = {}) => mint(userId, o.accessTtl ?? accessTtl, o.style ?? "opaque", o.scope ?? "openid offline_access"),
    issueWrapVerificationCode(userId) {
      const code = b64url(randomBytes(16));
      wrapCodes.set(code, userId);
      return code;
    },
    async revoke(refreshToken) {
      if (wrapRefresh.delete(refreshToken)) return;
      await (await provider.RefreshToken.find(refreshToken, { ignoreExpiration: true }))?.destroy();
    },
    async revokeAccessToken(accessToken) {
      await (await provider.AccessToken.find(accessToken, { ignoreExpiration: true }))?.destroy();
    },
    setDown(d) { down = d; },
    setAccessTokenPolicy(p) {
      if (p.accessTtl !== undefined) accessTtl = p.accessTtl;
      if (p.style !== undefined) tokenStyle = p.style;
    },
    setLoginUser(u) { loginUser = u; },
    completeAuthorization,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
