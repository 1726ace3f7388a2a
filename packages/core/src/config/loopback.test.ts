// XMPP_ALLOW_INSECURE is for loopback servers only: anything else is a configuration error naming it.
import { describe, expect, it } from "vitest";
import { isLoopbackHost } from "./loopback.ts";
import { loadConfig } from "./config.ts";
import { ConfigError } from "./errors.ts";

describe("XMPP_ALLOW_INSECURE", () => {
  it("knows loopback hosts", () => {
    for (const h of ["localhost", "LOCALHOST.", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1", "a.localhost"]) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ["example.org", "10.0.0.1", "128.0.0.1", "::2", "localhost.example.org", "0.0.0.0", ""]) expect(isLoopbackHost(h), h).toBe(false);
  });

  it("is a config error with a service that is not loopback, and fine with one that is", () => {
    const env = { XMPP_ACCESS_TOKEN: "t", XMPP_ALLOW_INSECURE: "1" };
    let err: unknown;
    try {
      loadConfig({ ...env, XMPP_SERVICE: "xmpp://chat.example.org:5222" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe("XMPP_ALLOW_INSECURE");
    expect((err as ConfigError).message).toMatch(/^XMPP_ALLOW_INSECURE: expected only with a loopback server .*unset it.*"chat\.example\.org"/);
    expect((err as ConfigError).message).not.toContain("\n");
    expect(loadConfig({ ...env, XMPP_SERVICE: "xmpp://127.0.0.1:5222" })!.allowInsecure).toBe(true);
    expect(loadConfig({ ...env, XMPP_SERVICE: "xmpp://[::1]:5222" })!.allowInsecure).toBe(true);
    expect(loadConfig({ ...env, XMPP_ALLOW_INSECURE: "0", XMPP_SERVICE: "xmpp://chat.example.org" })!.allowInsecure).toBe(false);
  });
});
