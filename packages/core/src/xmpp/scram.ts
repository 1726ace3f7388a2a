/**
 * SCRAM client (RFC 5802; SHA-256 per RFC 7677, SHA-512 likewise) with optional channel binding
 * (the `-PLUS` variants). PBKDF2 runs through async `crypto.pbkdf2` (libuv thread pool), so the
 * event loop never blocks on the key derivation; the iteration count is bounded against hostile
 * servers.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const pbkdf2Async = promisify(pbkdf2);

/** Hash functions of the SCRAM family: node:crypto name and output length (bytes). */
export const SCRAM_HASHES = {
  "SHA-1": { algorithm: "sha1", length: 20 },
  "SHA-256": { algorithm: "sha256", length: 32 },
  "SHA-512": { algorithm: "sha512", length: 64 },
} as const;
export type ScramHash = keyof typeof SCRAM_HASHES;

/**
 * Iteration counts accepted from the server. RFC 7677 §4 asks for at least 4096; a hostile or
 * broken server must not make us burn minutes of CPU (i=100000000), so counts above the ceiling
 * fail the login with a clear error.
 */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 1_000_000;

/**
 * The GS2 header's channel-binding part (RFC 5802 §7 `gs2-cbind-flag`):
 * `n`: no channel binding; `y`: the client supports it but thinks the server does not (downgrade
 * detection, RFC 5802 §6); `p`: bind to the TLS channel with `type` and `data`.
 */
export type ScramBinding = { flag: "n" } | { flag: "y" } | { flag: "p"; type: string; data: Buffer };

/** Options of `scramClient`. */
export interface ScramOptions {
  hash: ScramHash;
  username: string;
  password: string;
  binding: ScramBinding;
  /** Client nonce; random unless a test injects the RFC example's. */
  nonce?: string;
  /** Accepted iteration range; default `SCRAM_MIN_ITERATIONS`..`SCRAM_MAX_ITERATIONS`. */
  minIterations?: number;
  maxIterations?: number;
}

/** One SCRAM exchange: client-first, client-final (async: PBKDF2), then the server signature check. */
export interface ScramClient {
  /** The client-first-message (not base64). */
  first(): string;
  /** The client-final-message for this server-first-message (both not base64). */
  final(serverFirst: string): Promise<string>;
  /** Check the server-final-message (`v=…`); throws on `e=…`, a missing or a wrong signature. */
  verify(serverFinal: string): void;
}

/** RFC 5802 §5.1 `saslname`: "=" and "," escaped. */
const saslName = (s: string): string => s.replace(/=/g, "=3D").replace(/,/g, "=2C");

/** Parse `a=v,b=w` (RFC 5802 §7); values may contain "=". Only the first of each attribute counts. */
export function scramAttributes(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of msg.split(",")) {
    if (part.length >= 2 && part[1] === "=" && !out.has(part[0]!)) out.set(part[0]!, part.slice(2));
  }
  return out;
}

const xor = (a: Buffer, b: Buffer): Buffer => {
  const out = Buffer.alloc(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k]! ^ b[k]!;
  return out;
};

/** Start a SCRAM exchange. */
export function scramClient(o: ScramOptions): ScramClient {
  const { algorithm, length } = SCRAM_HASHES[o.hash];
  const name = `SCRAM-${o.hash}${o.binding.flag === "p" ? "-PLUS" : ""}`;
  const nonce = o.nonce ?? randomBytes(24).toString("base64");
  const min = o.minIterations ?? SCRAM_MIN_ITERATIONS;
  const max = o.maxIterations ?? SCRAM_MAX_ITERATIONS;
  // RFC 5802 §7: gs2-header = gs2-cbind-flag "," [authzid] ","; the authzid is left empty.
  const gs2Header = o.binding.flag === "p" ? `p=${o.binding.type},,` : `${o.binding.flag},,`;
  const cbindInput = o.binding.flag === "p" ? Buffer.concat([Buffer.from(gs2Header), o.binding.data]) : Buffer.from(gs2Header);
  const clientFirstBare = `n=${saslName(o.username)},r=${nonce}`;
  const hmac = (key: Buffer, data: string) => createHmac(algorithm, key).update(data).digest();
  let serverSignature: Buffer | undefined;

  return {
    first: () => gs2Header + clientFirstBare,
    async final(serverFirst) {
      const a = scramAttributes(serverFirst);
      if (a.has("m")) throw new Error(`${name}: the server requires an unsupported extension (m=)`);
      const r = a.get("r");
      const s = a.get("s");
      const i = a.get("i");
      // RFC 5802 §5.1: the server's nonce starts with ours and adds its own part.
      if (!r || !s || !i || !r.startsWith(nonce) || r.length === nonce.length) {
        throw new Error(`${name}: invalid server-first-message`);
      }
      if (!/^[1-9][0-9]{0,9}$/.test(i)) throw new Error(`${name}: invalid iteration count`);
      const iterations = Number(i);
      if (iterations < min || iterations > max) {
        throw new Error(`${name}: the server asks for ${iterations} PBKDF2 iterations; accepted are ${min} to ${max}`);
      }
      const salt = Buffer.from(s, "base64");
      if (salt.length === 0) throw new Error(`${name}: empty salt`);
      // RFC 5802 §2.2 Hi() is PBKDF2 with HMAC; the password should be SASLprep'ed (RFC 4013):
      // NFKC covers the common cases (RFC 5802 §5.1 "Normalize").
      const salted = await pbkdf2Async(o.password.normalize("NFKC"), salt, iterations, length, algorithm);
      const clientKey = hmac(salted, "Client Key");
      const storedKey = createHash(algorithm).update(clientKey).digest();
      const withoutProof = `c=${cbindInput.toString("base64")},r=${r}`;
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const proof = xor(clientKey, hmac(storedKey, authMessage));
      serverSignature = hmac(hmac(salted, "Server Key"), authMessage);
      return `${withoutProof},p=${proof.toString("base64")}`;
    },
    verify(serverFinal) {
      if (!serverSignature) throw new Error(`${name}: success before the server-first-message`);
      const a = scramAttributes(serverFinal);
      const e = a.get("e");
      if (e !== undefined) throw new Error(`${name}: the server reports ${e}`);
      const v = a.get("v");
      if (!v) throw new Error(`${name}: no server signature (v=) in the server-final-message`);
      const got = Buffer.from(v, "base64");
      // RFC 5802 §5.1 / §9: mutual authentication; a wrong v= means the server does not know the password.
      if (got.length !== serverSignature.length || !timingSafeEqual(got, serverSignature)) {
        throw new Error(`${name}: server signature mismatch (the server could not prove it knows the password)`);
      }
    },
  };
}
