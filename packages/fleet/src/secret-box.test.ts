import { describe, expect, it } from "vitest";
import { ConfigError } from "@botrun/core";
import { SecretBox, SecretBoxError, secretBoxFromEnv } from "./secret-box.ts";

const SECRET = "a-long-fleet-secret-for-tests-0123";

describe("SecretBox (AES-256-GCM)", () => {
  it("round-trips, and the sealed text contains nothing of the plain text", () => {
    const box = new SecretBox(SECRET);
    const sealed = box.seal("refresh-token-XYZ", "a@example.org#tok");
    expect(sealed).toMatch(/^v1\.[\w-]+$/);
    expect(sealed).not.toContain("XYZ");
    expect(box.open(sealed, "a@example.org#tok")).toBe("refresh-token-XYZ");
    expect(box.seal("same", "c")).not.toBe(box.seal("same", "c")); // a fresh IV each time
  });

  it("refuses another context (a value copied to another account), another secret, and a tampered value", () => {
    const box = new SecretBox(SECRET);
    const sealed = box.seal("pw", "a@example.org#cred");
    expect(() => box.open(sealed, "b@example.org#cred")).toThrow(SecretBoxError);
    expect(() => new SecretBox(SECRET + "x").open(sealed, "a@example.org#cred")).toThrow(SecretBoxError);
    const raw = Buffer.from(sealed.slice(3), "base64url");
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open(`v1.${raw.toString("base64url")}`, "a@example.org#cred")).toThrow(SecretBoxError);
    expect(() => box.open("garbage", "x")).toThrow(SecretBoxError);
    expect(() => box.open("v1.AAAA", "x")).toThrow(SecretBoxError);
  });

  it("without BOTRUN_FLEET_SECRET (or with a short one) the fleet refuses to start, naming the setting", () => {
    expect(() => secretBoxFromEnv({})).toThrow(ConfigError);
    expect(() => secretBoxFromEnv({})).toThrow(/^BOTRUN_FLEET_SECRET: /);
    expect(() => secretBoxFromEnv({ BOTRUN_FLEET_SECRET: "short" })).toThrow(/BOTRUN_FLEET_SECRET: expected a secret of at least 16/);
    expect(secretBoxFromEnv({ BOTRUN_FLEET_SECRET: SECRET })).toBeInstanceOf(SecretBox);
  });
});
