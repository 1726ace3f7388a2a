/**
 * Recognises inbound messages the server delivers a second time (offline storage after a session
 * it closed before our XEP-0198 ack, a peer's resend after a failed resumption), so they are handled
 * once. A message is a redelivery when
 * - it carries a XEP-0359 `<stanza-id/>` stamped by our own server (`by` = our bare JID, §3.1; the
 *   server strips such elements from what others send, and the key includes the sender anyway)
 *   that was seen before, or
 * - it comes back with a XEP-0203 `<delay/>` and the same sender, id *and* body as one seen before.
 * A new message that reuses an old id (clients restarting their id counters) has another body or no
 * delay and is handled. Memory is bounded: the most recent `limit` keys of each kind, as digests.
 */
import { createHash } from "node:crypto";
import type { Element } from "@xmpp/xml";

const NS_SID = "urn:xmpp:sid:0";
const NS_DELAY = "urn:xmpp:delay";

/** Why `RedeliveryFilter.check` took a message for a redelivery. */
export type Redelivery = "stanza-id" | "same id and body";

/** A bounded memory of recent inbound messages. */
export class RedeliveryFilter {
  readonly #seen = new Set<string>();
  constructor(readonly limit = 5000) {}

  /** Undefined for a message to handle (remembered from now on), else why it is a redelivery. */
  check(el: Element, ownBareJid: string): Redelivery | undefined {
    if (el.name !== "message") return undefined;
    const from = String(el.attrs.from ?? "");
    const slash = from.indexOf("/");
    const sender = slash === -1 ? from : from.slice(0, slash);
    const id = el.attrs.id as string | undefined;
    let sid: string | undefined;
    let delayed = false;
    let body = "";
    for (const c of el.children) {
      if (typeof c === "string") continue;
      if (c.name === "body") body = c.text();
      else if (c.name === "delay" && c.attrs.xmlns === NS_DELAY) delayed = true;
      else if (c.name === "stanza-id" && c.attrs.xmlns === NS_SID && ownBareJid && c.attrs.by === ownBareJid && c.attrs.id) sid = String(c.attrs.id);
    }
    const sidKey = sid === undefined ? undefined : digest("s", sender, sid, "");
    const contentKey = id ? digest("c", sender, id, body) : undefined;
    if (sidKey && this.#seen.has(sidKey)) return "stanza-id";
    if (contentKey && delayed && this.#seen.has(contentKey)) return "same id and body";
    if (sidKey) this.#remember(sidKey);
    if (contentKey) this.#remember(contentKey);
    return undefined;
  }

  #remember(key: string): void {
    this.#seen.delete(key);
    this.#seen.add(key);
    if (this.#seen.size > this.limit * 2) this.#seen.delete(this.#seen.values().next().value!);
  }
}

/** A fixed-size key: ids and bodies are the sender's choice (and may be huge). */
function digest(kind: string, sender: string, id: string, body: string): string {
  return createHash("sha1").update(`${kind}\u0000${sender}\u0000${id}\u0000${body}`).digest("base64");
}
