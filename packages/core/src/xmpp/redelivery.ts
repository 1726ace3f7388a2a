/**
 * Recognises inbound messages the server delivers a second time (offline storage after a session
 * it closed before our XEP-0198 ack, a peer's resend after a failed resumption), so they are handled
 * once. A message is a redelivery when
 * - it carries a XEP-0359 `<stanza-id/>` stamped by our own server (`by` = our bare JID, §3.1; the
 *   server strips such elements from what others send, and the key includes the sender anyway)
 *   that was seen before, or
 * - it comes back with a XEP-0203 `<delay/>` and the same sender, id *and* body as one seen before,
 *   and either the same delay stamp or none the first time (received live, then stored offline).
 * A new message that reuses an old id (clients restarting their id counters) has another body, no
 * delay, or another delay stamp, and is handled: a server stamps a stanza once, when it first takes
 * it for later delivery (XEP-0203 §4), and a redelivered stanza keeps that stamp, so two stamps from
 * the same sender mean two messages (a client resending `!help` with id `1` while the bot was offline).
 *
 * Keys are remembered as seeded 64-bit fingerprints of (kind, sender's bare JID, id or stanza-id,
 * body, stamp), in flat tables (fingerprints.ts): no object per message for the GC, a bounded
 * memory (the newest `2 × limit` keys at least, at most twice that, in tables of 8-byte slots at
 * most half full: 512 KiB for the default limit), and any size of body. With at most 4 × `limit`
 * keys held and up to three lookups per message, a message is taken for a redelivery by a
 * fingerprint collision with odds of about 3 in 10^15 (only delayed messages, and ones with a
 * stanza-id from our server, are looked up at all).
 */
import type { Element } from "@xmpp/xml";
import { Fingerprints } from "./fingerprints.ts";

const NS_SID = "urn:xmpp:sid:0";
const NS_DELAY = "urn:xmpp:delay";

/** Why `RedeliveryFilter.check` took a message for a redelivery. */
export type Redelivery = "stanza-id" | "same id and body";

/** A bounded memory of recent inbound messages. */
export class RedeliveryFilter {
  /** The newest `2 × limit` keys at least (stanza-ids and contents together), at most twice that. */
  readonly #seen: Fingerprints;
  /** Per filter, so fingerprints cannot be computed ahead to collide with another sender's message. */
  readonly #seed = (Math.random() * 0x1_0000_0000) >>> 0;
  constructor(readonly limit = 5000) {
    this.#seen = new Fingerprints(limit * 2);
  }

  /** Undefined for a message to handle (remembered from now on), else why it is a redelivery. */
  check(el: Element, ownBareJid: string): Redelivery | undefined {
    if (el.name !== "message") return undefined;
    const from = String(el.attrs.from ?? "");
    const slash = from.indexOf("/");
    const sender = slash === -1 ? from : from.slice(0, slash);
    const id = el.attrs.id as string | undefined;
    let sid: string | undefined;
    let stamp: string | undefined;
    let body = "";
    for (const c of el.children) {
      if (typeof c === "string") continue;
      if (c.name === "body") body = c.text();
      else if (c.name === "delay" && c.attrs.xmlns === NS_DELAY) stamp = String(c.attrs.stamp ?? "");
      else if (c.name === "stanza-id" && c.attrs.xmlns === NS_SID && ownBareJid && c.attrs.by === ownBareJid && c.attrs.id) sid = String(c.attrs.id);
    }
    // Both keys are looked up before either is remembered (a message dropped by one is not
    // remembered under the other).
    const seen = this.#seen;
    let sidA = 0;
    let sidB = 0;
    if (sid !== undefined) {
      this.#fingerprint(KIND_SID, sender, sid, "", "");
      if (seen.has(A, B)) return "stanza-id";
      sidA = A;
      sidB = B;
    }
    if (id) {
      // The stamp is part of the key ("" when received live): see the module comment.
      if (stamp !== undefined) {
        this.#fingerprint(KIND_CONTENT, sender, id, body, "");
        if (seen.has(A, B)) return "same id and body";
      }
      this.#fingerprint(KIND_CONTENT, sender, id, body, stamp ?? "");
      if (stamp !== undefined && seen.has(A, B)) return "same id and body";
    }
    if (sid !== undefined) seen.add(sidA, sidB);
    if (id) seen.add(A, B);
    return undefined;
  }

  /** The 64-bit fingerprint of one key, into `A` and `B` (no allocation). */
  #fingerprint(kind: number, sender: string, id: string, body: string, stamp: string): void {
    A = 0x811c9dc5 ^ this.#seed;
    B = 0x3c6ef372 ^ Math.imul(this.#seed, 0x9e3779b1);
    mix(kind);
    feed(sender);
    feed(id);
    feed(body);
    feed(stamp);
    A = finish(A);
    B = finish(B);
  }
}

const KIND_SID = 1;
const KIND_CONTENT = 2;

/**
 * The fingerprint being computed: two 32-bit hashes with different multipliers and shifts, each
 * a multiply-xorshift per character (plain FNV-1a, being linear, let some pairs of similar keys
 * collide in its word for one seed in ~500).
 */
let A = 0;
let B = 0;

function mix(c: number): void {
  A = Math.imul(A ^ c, 0x01000193);
  A ^= A >>> 13;
  B = Math.imul(B ^ c, 0x5bd1e995);
  B ^= B >>> 15;
}

/** Every character of `s`, then an end mark no UTF-16 code unit can equal (parts cannot run into each other). */
function feed(s: string): void {
  for (let i = 0; i < s.length; i++) mix(s.charCodeAt(i));
  mix(0x10000 + s.length);
}

/** murmur3's finaliser: every input bit reaches every output bit. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
