/**
 * Client-side SASL mechanisms. Each returns the wire text of `<auth>` and answers challenges.
 * X-MESSENGER-OAUTH2 sends the access token itself, unchanged (no base64, no prefix): Microsoft's
 * documented format. PLAIN and SCRAM-SHA-1 (RFC 5802, node:crypto) are base64 on the wire.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/** What a mechanism needs. */
export interface SaslCredentials {
  username?: string;
  password?: string;
  accessToken?: string;
}

/** One SASL exchange. `initial` is the exact `<auth>` text; `challenge` returns the `<response>` text. */
export interface SaslSession {
  initial(): string;
  challenge(text: string): string;
  /** Verify `<success>` data (SCRAM server signature); throws on mismatch. */
  success(text: string): void;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const unb64 = (s: string) => Buffer.from(s, "base64");

/** X-MESSENGER-OAUTH2: the raw token, byte for byte. */
export function messengerOAuth2(creds: SaslCredentials): SaslSession {
  const token = creds.accessToken;
  if (!token) throw new Error("no access token for X-MESSENGER-OAUTH2");
  return { initial: () => token, challenge: () => "", success: () => {} };
}

/** PLAIN (RFC 4616): base64("\0" + user + "\0" + password). */
export function plain(creds: SaslCredentials): SaslSession {
  if (!creds.username || !creds.password) throw new Error("PLAIN needs a username and a password");
  const msg = b64(`\0${creds.username}\0${creds.password}`);
  return { initial: () => msg, challenge: () => "", success: () => {} };
}

const saslName = (s: string) => s.replace(/=/g, "=3D").replace(/,/g, "=2C");

/** SCRAM-SHA-1 (RFC 5802) without channel binding; `nonce` injectable for tests. */
export function scramSha1(creds: SaslCredentials, nonce = randomBytes(18).toString("base64")): SaslSession {
  const { username, password } = creds;
  if (!username || !password) throw new Error("SCRAM-SHA-1 needs a username and a password");
  const clientFirstBare = `n=${saslName(username)},r=${nonce}`;
  let serverSignature: Buffer | undefined;
  return {
    initial: () => b64(`n,,${clientFirstBare}`),
    challenge(text) {
      const serverFirst = unb64(text).toString("utf8");
      const attrs = Object.fromEntries(serverFirst.split(",").map((kv) => [kv[0], kv.slice(2)]));
      const { r, s, i } = attrs as Record<string, string | undefined>;
      if (!r || !s || !i || !r.startsWith(nonce)) throw new Error("SCRAM-SHA-1: invalid server-first-message");
      const iterations = Number(i);
      if (!Number.isInteger(iterations) || iterations < 1) throw new Error("SCRAM-SHA-1: invalid iteration count");
      const salted = pbkdf2Sync(password.normalize("NFKC"), unb64(s), iterations, 20, "sha1");
      const clientKey = createHmac("sha1", salted).update("Client Key").digest();
      const storedKey = createHash("sha1").update(clientKey).digest();
      const withoutProof = `c=biws,r=${r}`;
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const clientSig = createHmac("sha1", storedKey).update(authMessage).digest();
      const proof = Buffer.alloc(clientKey.length);
      for (let k = 0; k < proof.length; k++) proof[k] = clientKey[k]! ^ clientSig[k]!;
      const serverKey = createHmac("sha1", salted).update("Server Key").digest();
      serverSignature = createHmac("sha1", serverKey).update(authMessage).digest();
      return b64(`${withoutProof},p=${proof.toString("base64")}`);
    },
    success(text) {
      if (!serverSignature) throw new Error("SCRAM-SHA-1: success before challenge");
      const v = unb64(text).toString("utf8").match(/(?:^|,)v=([^,]*)/)?.[1];
      if (!v) throw new Error("SCRAM-SHA-1: no server signature in success");
      const got = unb64(v);
      if (got.length !== serverSignature.length || !timingSafeEqual(got, serverSignature)) {
        throw new Error("SCRAM-SHA-1: server signature mismatch");
      }
    },
  };
}

/** Mechanism name → session factory. */
export const MECHANISM_IMPLS = {
  "X-MESSENGER-OAUTH2": messengerOAuth2,
  PLAIN: plain,
  "SCRAM-SHA-1": scramSha1,
} as const;
