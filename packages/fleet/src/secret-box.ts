// Credentials at rest: AES-256-GCM (node:crypto) with a key derived from BOTRUN_FLEET_SECRET, so a dump of Redis lets nobody log in.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { ConfigError, registerSecret } from "@botrun/core";

/** The setting that holds the fleet's encryption secret. */
export const SECRET_SETTING = "BOTRUN_FLEET_SECRET";
const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Shortest secret accepted: 16 characters (a random 128-bit value in hex or base64 is longer). */
const MIN_SECRET_CHARS = 16;

/** A ciphertext that does not decrypt: tampered with, moved to another account, or written with another secret. */
export class SecretBoxError extends Error {
  override readonly name = "SecretBoxError";
}

/**
 * Encrypts and decrypts small values. Each value is bound to a context string (the account and
 * field, as GCM additional data), so a ciphertext copied to another account's record does not open.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(secret: string) {
    if (secret.length < MIN_SECRET_CHARS) {
      throw new ConfigError(SECRET_SETTING, `a secret of at least ${MIN_SECRET_CHARS} characters (e.g. \`openssl rand -hex 32\`)`);
    }
    registerSecret(secret);
    this.#key = Buffer.from(hkdfSync("sha256", Buffer.from(secret, "utf8"), Buffer.from("botrun-fleet"), Buffer.from("credentials v1"), 32));
  }

  /** `v1.<base64url(iv | tag | ciphertext)>` of `plain`, bound to `context`. */
  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
  }

  /** The plain text of a `seal()` output for the same `context`; throws `SecretBoxError` otherwise. */
  open(sealed: string, context: string): string {
    const [version, data] = sealed.split(".", 2);
    if (version !== VERSION || !data) throw new SecretBoxError(`not a ${VERSION} sealed value`);
    const raw = Buffer.from(data, "base64url");
    if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError("sealed value too short");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretBoxError(`cannot decrypt (wrong ${SECRET_SETTING}, or the value was altered)`);
    }
  }
}

/** The fleet's `SecretBox` from the environment; without BOTRUN_FLEET_SECRET the fleet refuses to start (ConfigError, exit 2). */
export function secretBoxFromEnv(env: NodeJS.ProcessEnv): SecretBox {
  const secret = env[SECRET_SETTING]?.trim();
  if (!secret) throw new ConfigError(SECRET_SETTING, "a secret to encrypt credentials in Redis (e.g. `openssl rand -hex 32`); the fleet does not store them in clear");
  return new SecretBox(secret);
}
