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
 * the same sender mean two messages (a client resending `!help` with id `1` while the bot was offline). Memory is bounded: the most recent `limit` keys of each kind, each under ~550 characters.
 */
import type { Element } from "@xmpp/xml";

const NS_SID = "urn:xmpp:sid:0";
const NS_DELAY = "urn:xmpp:delay";

/** Why `RedeliveryFilter.check` took a message for a redelivery. */
export type Redelivery = "stanza-id" | "same id and body";

/** A bounded memory of recent inbound messages. */
export class RedeliveryFilter {
  /** Two generations of keys: the newest `limit` at least, at most `2 × limit` (no per-key eviction, which costs ~10 µs per delete-first on a large Set). */
  #current = new Set<string>();
  #previous = new Set<string>();
  constructor(readonly limit = 5000) {}

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
    const sidKey = sid === undefined ? undefined : digest("s", sender, sid, "");
    // The stamp is part of the key ("" when received live): see the module comment.
    const contentKey = id ? digest("c", sender, id, body, stamp ?? "") : undefined;
    if (sidKey && this.#has(sidKey)) return "stanza-id";
    if (id && stamp !== undefined && (this.#has(contentKey!) || this.#has(digest("c", sender, id, body, "")))) return "same id and body";
    if (sidKey) this.#remember(sidKey);
    if (contentKey) this.#remember(contentKey);
    return undefined;
  }

  #has(key: string): boolean {
    return this.#current.has(key) || this.#previous.has(key);
  }

  #remember(key: string): void {
    this.#current.add(key);
    if (this.#current.size >= this.limit * 2) {
      this.#previous = this.#current;
      this.#current = new Set();
    }
  }
}

/**
 * A key of bounded size: ids and bodies are the sender's choice (and may be huge); long parts are
 * hashed, short ones (most bodies) kept as they are, so the common message costs no hashing.
 */
function digest(kind: string, sender: string, id: string, body: string, stamp = ""): string {
  // One flat string (`join` copies the parts): a template literal leaves a tree of cons strings
  // that keeps the stanza's own strings (the sender's full JID, the body) alive with each
  // remembered key, about 400 bytes a key instead of 80, all of it promoted and copied by the GC.
  return [kind, short(sender), short(id), short(body), short(stamp)].join("\u0000");
}

/** Up to 128 characters as is; a longer one as U+0001 (never in XML text, so never in a short part) and its hash. */
function short(s: string): string {
  return s.length <= 128 ? s : `\u0001${hash(s)}`;
}

/** Two 32-bit FNV-1a hashes (different offsets) and the length: collisions need all three to agree. */
function hash(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return `${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}.${s.length}`;
}
