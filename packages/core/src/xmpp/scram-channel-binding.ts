/**
 * TLS channel-binding data for SCRAM-*-PLUS: `tls-exporter` (RFC 9266, TLS 1.3 only here),
 * `tls-server-end-point` (RFC 5929 §4) and `tls-unique` (RFC 5929 §3, TLS 1.2 and below only), and
 * which of them to use given what the server advertises (XEP-0440).
 */
import { createHash } from "node:crypto";
import type tls from "node:tls";

/** Channel-binding types botrun can compute, strongest first (XEP-0440 §4 prefers tls-exporter). */
export const CHANNEL_BINDING_TYPES = ["tls-exporter", "tls-server-end-point", "tls-unique"] as const;
export type ChannelBindingType = (typeof CHANNEL_BINDING_TYPES)[number];

/** The part of a TLS socket channel binding reads. */
export type BindingSocket = Pick<
  tls.TLSSocket,
  "getProtocol" | "exportKeyingMaterial" | "getPeerCertificate" | "getFinished" | "getPeerFinished" | "isSessionReused"
>;

/** Signature algorithm OIDs → hash for tls-server-end-point (RFC 5929 §4.1: MD5 and SHA-1 become SHA-256). */
const SIGNATURE_HASH: Record<string, string> = {
  "1.2.840.113549.1.1.4": "sha256", // md5WithRSAEncryption
  "1.2.840.113549.1.1.5": "sha256", // sha1WithRSAEncryption
  "1.2.840.113549.1.1.14": "sha224",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.10045.4.1": "sha256", // ecdsa-with-SHA1
  "1.2.840.10045.4.3.1": "sha224",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
  "1.2.840.10040.4.3": "sha256", // dsa-with-sha1
  "2.16.840.1.101.3.4.3.2": "sha256", // dsa-with-sha256
};

/** Read one DER TLV at `at`: tag, start of contents, end. */
function tlv(der: Buffer, at: number): { tag: number; start: number; end: number } {
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error("unsupported DER length");
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + der[start + k]!;
    start += n;
  }
  if (start + len > der.length) throw new Error("truncated DER");
  return { tag, start, end: start + len };
}

/** Dotted OID of DER contents. */
function oid(bytes: Buffer): string {
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let v = 0;
  for (const b of bytes.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

/** The signatureAlgorithm OID of a DER X.509 certificate (RFC 5280 §4.1.1.2). */
export function certSignatureOid(der: Buffer): string {
  const cert = tlv(der, 0);
  const tbs = tlv(der, cert.start);
  const alg = tlv(der, tbs.end);
  const id = tlv(der, alg.start);
  if (cert.tag !== 0x30 || tbs.tag !== 0x30 || alg.tag !== 0x30 || id.tag !== 0x06) throw new Error("not an X.509 certificate");
  return oid(der.subarray(id.start, id.end));
}

/** tls-server-end-point data: the certificate hashed with its signature's hash; undefined where RFC 5929 defines none (Ed25519, RSA-PSS). */
export function serverEndPoint(der: Buffer): Buffer | undefined {
  const hash = SIGNATURE_HASH[certSignatureOid(der)];
  return hash ? createHash(hash).update(der).digest() : undefined;
}

const isTls13 = (s: BindingSocket) => s.getProtocol() === "TLSv1.3";

/** Channel-binding data of `type` on `socket`, or undefined where that type is not defined for this connection. */
export function bindingData(socket: BindingSocket, type: ChannelBindingType): Buffer | undefined {
  switch (type) {
    case "tls-exporter":
      // RFC 9266 §2: 32 bytes, label "EXPORTER-Channel-Binding", empty context. Only TLS 1.3
      // here: on TLS 1.2 it is safe only with extended master secret, which node does not report.
      return isTls13(socket) ? socket.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0)) : undefined;
    case "tls-server-end-point": {
      // Not getPeerX509Certificate(): on node 20 it leaves the peer certificate unreadable for
      // every later call (getPeerCertificate included); getPeerCertificate() can be repeated.
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      return raw?.length ? serverEndPoint(raw) : undefined;
    }
    case "tls-unique":
      // RFC 9266 §3: undefined for TLS 1.3. RFC 5929 §3.1: the first Finished message of the
      // handshake: ours on a full handshake, the server's on a resumption.
      if (isTls13(socket)) return undefined;
      return (socket.isSessionReused() ? socket.getPeerFinished() : socket.getFinished()) ?? undefined;
  }
}

/**
 * The channel-binding type to use for a -PLUS mechanism, or undefined for none.
 * `advertised`: the XEP-0440 `<sasl-channel-binding/>` types, undefined when the server sent none.
 * Without the element (XEP-0440 servers are still rare: Prosody 0.12 and ejabberd 23.01 send none),
 * RFC 5802 §6 makes tls-unique the default, which exists only before TLS 1.3; on TLS 1.3 the type
 * the server expects is unknown (ejabberd 23.01 would expect tls-unique), so none is used.
 */
export function chooseBinding(socket: BindingSocket, advertised: string[] | undefined): ChannelBindingType | undefined {
  const candidates = advertised ? CHANNEL_BINDING_TYPES.filter((t) => advertised.includes(t)) : ["tls-unique" as const];
  return candidates.find((t) => bindingData(socket, t) !== undefined);
}
