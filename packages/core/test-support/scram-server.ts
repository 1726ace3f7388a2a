// Test-only: the server side of SCRAM (RFC 5802 §5) with channel-binding checks, and a TLS
// connection pair on loopback with a fresh self-signed certificate, to drive the client for real.
import { execFile } from "node:child_process";
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { SCRAM_HASHES, scramAttributes, type ScramHash } from "../src/xmpp/scram.ts";

/** What the fake server saw and decided. */
export interface ScramServerResult {
  gs2Header: string;
  /** The channel-binding data the client sent (after the GS2 header in c=). */
  cbData: Buffer;
}

/** A SCRAM server for one exchange: `first(clientFirst)` → server-first, `final(clientFinal)` → server-final (throws on a bad proof). */
export function scramServer(o: { hash: ScramHash; password: string; iterations?: number; salt?: Buffer; serverNonce?: string }) {
  const { algorithm } = SCRAM_HASHES[o.hash];
  const salt = o.salt ?? randomBytes(16);
  const iterations = o.iterations ?? 4096;
  let clientFirstBare = "";
  let serverFirst = "";
  let gs2Header = "";
  const result: Partial<ScramServerResult> = {};
  const hmac = (k: Buffer, d: string) => createHmac(algorithm, k).update(d).digest();
  return {
    result,
    first(clientFirst: string): string {
      const m = /^((?:[ny]|p=[^,]+),[^,]*,)(.*)$/.exec(clientFirst);
      if (!m) throw new Error("bad gs2 header");
      gs2Header = m[1]!;
      clientFirstBare = m[2]!;
      result.gs2Header = gs2Header;
      const nonce = scramAttributes(clientFirstBare).get("r")! + (o.serverNonce ?? randomBytes(12).toString("base64"));
      serverFirst = `r=${nonce},s=${salt.toString("base64")},i=${iterations}`;
      return serverFirst;
    },
    final(clientFinal: string): string {
      const a = scramAttributes(clientFinal);
      const c = Buffer.from(a.get("c") ?? "", "base64");
      if (!c.subarray(0, gs2Header.length).equals(Buffer.from(gs2Header))) throw new Error("c= does not repeat the gs2 header");
      result.cbData = c.subarray(gs2Header.length);
      const salted = pbkdf2Sync(o.password, salt, iterations, SCRAM_HASHES[o.hash].length, algorithm);
      const clientKey = hmac(salted, "Client Key");
      const storedKey = createHash(algorithm).update(clientKey).digest();
      const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(",p="));
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const sig = hmac(storedKey, authMessage);
      const proof = Buffer.from(a.get("p") ?? "", "base64");
      const key = Buffer.alloc(sig.length);
      for (let k = 0; k < key.length; k++) key[k] = proof[k]! ^ sig[k]!;
      if (proof.length !== sig.length || !timingSafeEqual(createHash(algorithm).update(key).digest(), storedKey)) throw new Error("invalid proof");
      return `v=${hmac(hmac(salted, "Server Key"), authMessage).toString("base64")}`;
    },
  };
}

/** A connected TLS pair on 127.0.0.1 (certificate from openssl with `keyArgs`); `close()` ends both and removes the files. */
export async function tlsPair(o: { maxVersion?: tls.SecureVersion; keyArgs?: string[] } = {}) {
  const dir = await mkdtemp(join(tmpdir(), "botrun-scram-"));
  const keyArgs = o.keyArgs ?? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await promisify(execFile)("openssl", [
    "req", "-x509", ...keyArgs, "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"),
    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
  ]);
  const cert = await readFile(join(dir, "c.pem"), "utf8");
  const key = await readFile(join(dir, "k.pem"), "utf8");
  const server = tls.createServer({ cert, key, ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}) });
  const serverSide = new Promise<tls.TLSSocket>((resolve) => server.once("secureConnection", resolve));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const client = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca: cert });
  await new Promise<void>((resolve, reject) => client.once("secureConnect", resolve).once("error", reject));
  const srv = await serverSide;
  return {
    client,
    server: srv,
    certPem: cert,
    async close() {
      client.destroy();
      srv.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
