/** Tests of RFC 8414 / OpenID Connect discovery for `botrun auth`, against a local HTTP server. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuthConfigError } from "./errors.ts";
import { discoverEndpoints, metadataUrls } from "./metadata.ts";
import { startTokenServer, type Reply, type TestTokenServer } from "../../test-support/token-server.ts";

let server: TestTokenServer;
let issuer: string;
/** Replies by path; anything else is 404. */
let docs: Record<string, Reply>;

beforeEach(async () => {
  docs = {};
  server = await startTokenServer((req) => docs[req.path] ?? { status: 404, json: { error: "not_found" } });
  issuer = server.url.replace(/\/token$/, "");
});
afterEach(() => server.close());

const metadata = (iss: string, extra: Record<string, unknown> = {}): Reply => ({
  status: 200,
  json: { issuer: iss, token_endpoint: `${iss}/token`, authorization_endpoint: `${iss}/authorize`, device_authorization_endpoint: `${iss}/device`, ...extra },
});

describe("metadataUrls", () => {
  it("RFC 8414 puts the well-known segment before the issuer's path; OIDC appends it", () => {
    expect(metadataUrls("https://login.example.com/tenant1/")).toEqual([
      "https://login.example.com/.well-known/oauth-authorization-server/tenant1",
      "https://login.example.com/tenant1/.well-known/openid-configuration",
    ]);
    expect(metadataUrls("https://as.example.com")[0]).toBe("https://as.example.com/.well-known/oauth-authorization-server");
  });
});

describe("discoverEndpoints", () => {
  it("reads the token, authorization and device endpoints from RFC 8414 metadata", async () => {
    docs["/.well-known/oauth-authorization-server"] = metadata(issuer);
    expect(await discoverEndpoints(issuer)).toEqual({
      issuer,
      tokenEndpoint: `${issuer}/token`,
      authorizationEndpoint: `${issuer}/authorize`,
      deviceAuthorizationEndpoint: `${issuer}/device`,
    });
    expect(server.requests.map((r) => [r.method, r.path])).toEqual([["GET", "/.well-known/oauth-authorization-server"]]);
  });

  it("falls back to OpenID Connect's openid-configuration; a member left out stays undefined", async () => {
    docs["/tenant/.well-known/openid-configuration"] = metadata(`${issuer}/tenant`, { device_authorization_endpoint: undefined });
    const found = await discoverEndpoints(`${issuer}/tenant`);
    expect(found.tokenEndpoint).toBe(`${issuer}/tenant/token`);
    expect(found.deviceAuthorizationEndpoint).toBeUndefined();
    expect(server.requests.map((r) => r.path)).toEqual(["/.well-known/oauth-authorization-server/tenant", "/tenant/.well-known/openid-configuration"]);
  });

  it("refuses metadata for another issuer (RFC 8414 §3.3)", async () => {
    docs["/.well-known/oauth-authorization-server"] = metadata("https://evil.example.com");
    const err = await discoverEndpoints(issuer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthConfigError);
    expect(err).toMatchObject({ setting: "OAUTH_ISSUER" });
    expect((err as Error).message).toContain("is for issuer");
  });

  it("refuses an endpoint in clear text off loopback, naming the member", async () => {
    docs["/.well-known/oauth-authorization-server"] = metadata(issuer, { device_authorization_endpoint: "http://as.example.com/device" });
    await expect(discoverEndpoints(issuer)).rejects.toThrow(/device_authorization_endpoint in OAUTH_ISSUER's metadata must be an https:\/\/ URL/);
  });

  it("no metadata at either place: one line naming OAUTH_ISSUER and both URLs", async () => {
    const err = await discoverEndpoints(issuer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthConfigError);
    expect((err as Error).message).toMatch(/^OAUTH_ISSUER: no authorization server metadata at .*oauth-authorization-server \(HTTP 404\) or .*openid-configuration \(HTTP 404\)/);
  });

  it("a redirect is not followed", async () => {
    docs["/.well-known/oauth-authorization-server"] = { status: 302, headers: { location: "https://elsewhere.example.com/md" } };
    docs["/.well-known/openid-configuration"] = metadata(issuer);
    expect((await discoverEndpoints(issuer)).tokenEndpoint).toBe(`${issuer}/token`);
    expect(server.requests).toHaveLength(2);
  });

  it("an issuer that is not https (or loopback http) is a configuration error before any request", async () => {
    await expect(discoverEndpoints("http://as.example.com")).rejects.toMatchObject({ setting: "OAUTH_ISSUER" });
    expect(server.requests).toHaveLength(0);
  });

  it("an oversized or non-JSON document is refused", async () => {
    docs["/.well-known/oauth-authorization-server"] = { status: 200, body: "x".repeat(300 * 1024) };
    await expect(discoverEndpoints(issuer)).rejects.toThrow(/larger than 256 KiB/);
    docs["/.well-known/oauth-authorization-server"] = { status: 200, body: "<html>" };
    await expect(discoverEndpoints(issuer)).rejects.toThrow(/not valid JSON/);
  });
});
