/** Tests of the OAuth 2.0 and WRAP endpoint clients against a real loopback server: wire format and error classification. */
import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TransientAuthError } from "./errors.ts";
import { OAuth2TokenEndpoint } from "./oauth2-endpoint.ts";
import { startTokenServer, type TestTokenServer } from "../../test-support/token-server.ts";
import { PermanentAuthError } from "./types.ts";
import { WrapTokenEndpoint } from "./wrap-endpoint.ts";

const RT = "refresh-token-SECRET-abc";
const CS = "client-secret-SECRET-def";
let server: TestTokenServer;
beforeEach(async () => {
  server = await startTokenServer(() => ({ status: 500 }));
});
afterEach(() => server.close());

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(Error);
  const err = e as Error;
  for (const secret of [RT, CS]) expect(`${err.message} ${err.stack}`).not.toContain(secret);
  return err;
}

describe("OAuth2TokenEndpoint", () => {
  const make = (extra: Partial<ConstructorParameters<typeof OAuth2TokenEndpoint>[0]> = {}) =>
    new OAuth2TokenEndpoint({ tokenUrl: server.url, clientId: "cid", clientSecret: CS, now: () => 1_000_000, ...extra });

  it("posts the refresh_token grant as a form with the secret in the body; parses the JSON reply", async () => {
    server.handler = () => ({ status: 200, json: { access_token: "AT", expires_in: 3600, refresh_token: "RT2", scope: "wl.messenger", token_type: "bearer" } });
    const t = await make({ scope: "wl.messenger" }).refresh(RT);
    expect(t).toEqual({ accessToken: "AT", expiresAt: 1_000_000 + 3_600_000, refreshToken: "RT2", meta: { obtainedAt: "1000000", scope: "wl.messenger", token_type: "bearer" } });
    const req = server.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(req.form).toEqual({ grant_type: "refresh_token", refresh_token: RT, scope: "wl.messenger", client_id: "cid", client_secret: CS });
  });

  it("can send the client secret as HTTP Basic instead", async () => {
    server.handler = () => ({ status: 200, json: { access_token: "AT" } });
    const t = await make({ clientAuth: "basic", clientId: "c id" }).refresh(RT);
    expect(t.refreshToken).toBeUndefined();
    expect(t.expiresAt).toBeUndefined();
    const req = server.requests[0]!;
    expect(req.form.client_secret).toBeUndefined();
    expect(req.headers.authorization).toBe("Basic " + Buffer.from(`c+id:${encodeURIComponent(CS)}`).toString("base64"));
  });

  it("exchanges an authorization code with redirect_uri and PKCE verifier", async () => {
    server.handler = () => ({ status: 200, json: { access_token: "AT", expires_in: 60, refresh_token: "RT" } });
    await make().exchangeCode("the-code", "http://127.0.0.1:1/cb", { codeVerifier: "v".repeat(43) });
    expect(server.requests[0]?.form).toEqual({
      grant_type: "authorization_code",
      code: "the-code",
      redirect_uri: "http://127.0.0.1:1/cb",
      code_verifier: "v".repeat(43),
      client_id: "cid",
      client_secret: CS,
    });
  });

  it.each(["invalid_grant", "invalid_client", "unauthorized_client"])("%s is permanent, without secrets in the message", async (code) => {
    server.handler = () => ({ status: 400, json: { error: code, error_description: `token ${RT} / secret ${CS} rejected` } });
    const err = await failure(make().refresh(RT));
    expect(err).toBeInstanceOf(PermanentAuthError);
    expect((err as PermanentAuthError).code).toBe(code);
    expect(err.message).toContain(code);
    expect(err.message).toContain("[redacted]");
  });

  it("5xx and server_error are transient", async () => {
    server.handler = () => ({ status: 502, body: "<html>bad gateway</html>" });
    const e1 = await failure(make().refresh(RT));
    expect(e1).toBeInstanceOf(TransientAuthError);
    expect((e1 as TransientAuthError).details.status).toBe(502);
    server.handler = () => ({ status: 400, json: { error: "temporarily_unavailable" } });
    expect(await failure(make().refresh(RT))).toBeInstanceOf(TransientAuthError);
  });

  it("429 is transient and carries Retry-After", async () => {
    server.handler = () => ({ status: 429, json: { error: "slow_down" }, headers: { "retry-after": "7" } });
    const err = (await failure(make().refresh(RT))) as TransientAuthError;
    expect(err).toBeInstanceOf(TransientAuthError);
    expect(err.details.retryAfterMs).toBe(7000);
  });

  it("a 200 without access_token is a transient invalid_response", async () => {
    server.handler = () => ({ status: 200, body: "<html>captive portal</html>" });
    const err = (await failure(make().refresh(RT))) as TransientAuthError;
    expect(err.code).toBe("invalid_response");
  });

  it("connection refused and timeouts are transient", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = (await failure(make({ tokenUrl: `http://127.0.0.1:${port}/t` }).refresh(RT))) as TransientAuthError;
    expect(refused.code).toBe("network");
    expect(refused.message).toMatch(/unreachable \(ECONNREFUSED\)/);
    server.handler = () => ({ hang: true });
    const timedOut = (await failure(make().refresh(RT, { signal: AbortSignal.timeout(100) }))) as TransientAuthError;
    expect(timedOut.code).toBe("timeout");
  });
});

describe("WrapTokenEndpoint", () => {
  const make = () => new WrapTokenEndpoint({ refreshUrl: server.url, accessTokenUrl: server.url, clientId: "wcid", clientSecret: CS, now: () => 5000 });

  it("refresh posts wrap_refresh_token (+ client id/secret) and parses the form reply", async () => {
    server.handler = () => ({
      status: 200,
      form: { wrap_access_token: "WAT", wrap_access_token_expires_in: "3600", wrap_refresh_token: "WRT2", uid: "u1", skey: "sk" },
    });
    const t = await make().refresh(RT);
    expect(t).toEqual({ accessToken: "WAT", expiresAt: 5000 + 3_600_000, refreshToken: "WRT2", meta: { obtainedAt: "5000", uid: "u1" } });
    expect(server.requests[0]?.form).toEqual({ wrap_refresh_token: RT, wrap_client_id: "wcid", wrap_client_secret: CS });
  });

  it("refresh without client credentials sends only the refresh token (MSDN sample)", async () => {
    server.handler = () => ({ status: 200, form: { wrap_access_token: "WAT" } });
    const t = await new WrapTokenEndpoint({ refreshUrl: server.url }).refresh(RT);
    expect(t.accessToken).toBe("WAT");
    expect(t.refreshToken).toBeUndefined();
    expect(server.requests[0]?.form).toEqual({ wrap_refresh_token: RT });
  });

  it("verification-code exchange sends the documented fields", async () => {
    server.handler = () => ({ status: 200, form: { wrap_access_token: "WAT", wrap_refresh_token: "WRT" } });
    await make().exchangeCode("2fabb60c-eb3a-0c68-d5f1-21efe462e9c0", "http://127.0.0.1:9/cb?state=s");
    expect(server.requests[0]?.form).toEqual({
      wrap_client_id: "wcid",
      wrap_client_secret: CS,
      wrap_callback: "http://127.0.0.1:9/cb?state=s",
      wrap_verification_code: "2fabb60c-eb3a-0c68-d5f1-21efe462e9c0",
      idtype: "CID",
    });
  });

  it.each([
    [400, "expired_refresh_token"],
    [401, "revoked_consent"],
    [400, "invalid_refresh_token"],
  ])("HTTP %i %s is permanent", async (status, reason) => {
    server.handler = () => ({ status, form: { error_code: "1234", wrap_error_reason: reason, internal_info: RT } });
    const err = await failure(make().refresh(RT));
    expect(err).toBeInstanceOf(PermanentAuthError);
    expect((err as PermanentAuthError).code).toBe(reason);
  });

  it("5xx is transient", async () => {
    server.handler = () => ({ status: 503, form: { wrap_error_reason: "service_unavailable" } });
    expect(await failure(make().refresh(RT))).toBeInstanceOf(TransientAuthError);
  });
});
