// Configuration from the environment: defaults, derived settings, and one-line errors naming the setting.
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, loadEnvFiles } from "./index.ts";

const err = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
};

describe("loadConfig", () => {
  it("returns undefined (console mode) without XMPP_DOMAIN and XMPP_SERVICE", () => {
    expect(loadConfig({ XMPP_PASSWORD: "x" })).toBeUndefined();
  });

  it("derives the domain from the service and defaults to auto (strongest offered) with a password", () => {
    const c = loadConfig({ XMPP_SERVICE: "xmpps://chat.example.org:5223", XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw" })!;
    expect(c.domain).toBe("chat.example.org");
    expect(c.service).toBe("xmpps://chat.example.org:5223");
    expect(c.mechanism).toBe("auto");
    expect(c.tuning.outboxLimit).toBe(10_000);
    expect(c.allowInsecure).toBe(false);
  });

  it("defaults to X-MESSENGER-OAUTH2 when a token source exists", () => {
    expect(loadConfig({ XMPP_DOMAIN: "d.example", XMPP_ACCESS_TOKEN: "a+b/c=" })!.mechanism).toBe("X-MESSENGER-OAUTH2");
    const c = loadConfig({
      XMPP_DOMAIN: "d.example",
      XMPP_PASSWORD: "pw",
      XMPP_USERNAME: "u",
      OAUTH_REFRESH_TOKEN: "r",
      OAUTH_TOKEN_URL: "https://auth.example/token",
      OAUTH_CLIENT_ID: "cid",
    })!;
    expect(c.mechanism).toBe("X-MESSENGER-OAUTH2");
    expect(c.oauth).toMatchObject({ flavor: "oauth2", clientId: "cid", tokenUrl: "https://auth.example/token" });
  });

  it("splits a bare JID username", () => {
    const c = loadConfig({ XMPP_SERVICE: "xmpp://127.0.0.1:5222", XMPP_USERNAME: "bot@localhost", XMPP_PASSWORD: "pw" })!;
    expect(c).toMatchObject({ username: "bot", domain: "localhost" });
  });

  it("names the setting and what it expects", () => {
    const e = err({ XMPP_DOMAIN: "d", XMPP_MECHANISM: "FOO", XMPP_PASSWORD: "p", XMPP_USERNAME: "u" });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.setting).toBe("XMPP_MECHANISM");
    expect(e.message).toBe(
      'XMPP_MECHANISM: expected one of auto, X-MESSENGER-OAUTH2, SCRAM-SHA-512-PLUS, SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-512, SCRAM-SHA-256, SCRAM-SHA-1, PLAIN (got "FOO")',
    );
  });

  it("accepts every SCRAM variant and auto as XMPP_MECHANISM; each needs username and password", () => {
    for (const m of ["auto", "SCRAM-SHA-512-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-256"]) {
      expect(loadConfig({ XMPP_DOMAIN: "d", XMPP_MECHANISM: m, XMPP_USERNAME: "u", XMPP_PASSWORD: "p" })!.mechanism).toBe(m);
      expect(err({ XMPP_DOMAIN: "d", XMPP_MECHANISM: m, XMPP_USERNAME: "u" }).setting).toBe("XMPP_PASSWORD");
    }
  });

  it("rejects missing credentials and bad values", () => {
    expect(err({ XMPP_DOMAIN: "d", XMPP_MECHANISM: "PLAIN", XMPP_PASSWORD: "p" }).setting).toBe("XMPP_USERNAME");
    expect(err({ XMPP_DOMAIN: "d", XMPP_MECHANISM: "SCRAM-SHA-1", XMPP_USERNAME: "u" }).setting).toBe("XMPP_PASSWORD");
    expect(err({ XMPP_DOMAIN: "d", XMPP_MECHANISM: "X-MESSENGER-OAUTH2", XMPP_USERNAME: "u", XMPP_PASSWORD: "p" }).setting).toBe("XMPP_ACCESS_TOKEN");
    expect(err({ XMPP_DOMAIN: "d" }).setting).toBe("XMPP_PASSWORD");
    expect(err({ XMPP_SERVICE: "http://x:1", XMPP_ACCESS_TOKEN: "t" }).setting).toBe("XMPP_SERVICE");
    expect(err({ XMPP_SERVICE: "not a url", XMPP_ACCESS_TOKEN: "t" }).setting).toBe("XMPP_SERVICE");
    expect(err({ XMPP_DOMAIN: "d", XMPP_ACCESS_TOKEN: "t", XMPP_PING_INTERVAL: "soon" }).setting).toBe("XMPP_PING_INTERVAL");
    expect(err({ XMPP_DOMAIN: "d", XMPP_ACCESS_TOKEN: "t", XMPP_OUTBOX_OVERFLOW: "drop" }).setting).toBe("XMPP_OUTBOX_OVERFLOW");
    expect(err({ XMPP_DOMAIN: "d", XMPP_ACCESS_TOKEN: "t", XMPP_ALLOW_INSECURE: "maybe" }).setting).toBe("XMPP_ALLOW_INSECURE");
    expect(err({ XMPP_DOMAIN: "d", XMPP_ACCESS_TOKEN: "t", XMPP_DNS_SERVER: "dns.example" }).setting).toBe("XMPP_DNS_SERVER");
    expect(err({ XMPP_DOMAIN: "d", OAUTH_REFRESH_TOKEN: "r" }).setting).toBe("OAUTH_TOKEN_URL");
    expect(err({ XMPP_DOMAIN: "d", OAUTH_REFRESH_TOKEN: "r", OAUTH_TOKEN_URL: "https://a/t" }).setting).toBe("OAUTH_CLIENT_ID");
  });

  it("never puts a secret in the message", () => {
    const e = err({ XMPP_DOMAIN: "d", XMPP_MECHANISM: "PLAIN", XMPP_PASSWORD: "hunter22" });
    expect(e.message).not.toContain("hunter22");
  });

  it("reads the CA file and reports an unreadable one", () => {
    const dir = mkdtempSync(join(tmpdir(), "botrun-cfg-"));
    const pem = join(dir, "ca.pem");
    writeFileSync(pem, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    const c = loadConfig({ XMPP_DOMAIN: "d", XMPP_ACCESS_TOKEN: "t", XMPP_CA_FILE: pem })!;
    expect(c.ca).toContain("BEGIN CERTIFICATE");
    const e = err({ XMPP_DOMAIN: "d", XMPP_ACCESS_TOKEN: "t", XMPP_CA_FILE: join(dir, "missing.pem") });
    expect(e.setting).toBe("XMPP_CA_FILE");
    expect(e.message).toContain("ENOENT");
  });

  it("parses tuning knobs in seconds and DNS servers", () => {
    const c = loadConfig({
      XMPP_DOMAIN: "d",
      XMPP_ACCESS_TOKEN: "t",
      XMPP_PING_INTERVAL: "0.5",
      XMPP_RECONNECT_MAX_DELAY: "10",
      XMPP_OUTBOX_LIMIT: "5",
      XMPP_OUTBOX_OVERFLOW: "block",
      XMPP_DNS_SERVER: "127.0.0.1:5353, 10.0.0.1",
      XMPP_ALLOW_INSECURE: "yes",
    })!;
    expect(c.tuning).toMatchObject({ pingIntervalMs: 500, reconnectMaxDelayMs: 10_000, outboxLimit: 5, outboxOverflow: "block" });
    expect(c.dnsServers).toEqual(["127.0.0.1:5353", "10.0.0.1"]);
    expect(c.allowInsecure).toBe(true);
  });
});

describe("loadEnvFiles", () => {
  it("loads files in order without overriding the real environment", () => {
    const dir = mkdtempSync(join(tmpdir(), "botrun-env-"));
    writeFileSync(join(dir, "a.env"), "XMPP_DOMAIN=from-a\nXMPP_USERNAME=ua\n");
    writeFileSync(join(dir, "b.env"), "XMPP_DOMAIN=from-b\nXMPP_RESOURCE=rb\n");
    const target: Record<string, string | undefined> = { XMPP_USERNAME: "real" };
    const loaded = loadEnvFiles([join(dir, "a.env"), join(dir, "missing.env"), join(dir, "b.env")], target);
    expect(loaded).toHaveLength(2);
    expect(target).toMatchObject({ XMPP_DOMAIN: "from-a", XMPP_USERNAME: "real", XMPP_RESOURCE: "rb" });
  });
});
