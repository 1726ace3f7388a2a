/**
 * The exactly-once ledger of inbound IQs (RFC 6120 §8.2.3: every get/set gets exactly one result
 * or error). The runtime opens an entry per inbound get/set, checks every outbound result/error
 * against it (a second answer is dropped), and answers itself when nothing did.
 */
import type { Element } from "@xmpp/xml";

/** How many answered IQs are remembered after their pipeline ended, to drop late second answers. */
const RECENT = 512;

/** Tracks which inbound iq get/set requests have been answered. */
export class IqLedger {
  /** key → [answered, how many pipelines hold the key]. */
  readonly #open = new Map<string, { answered: boolean; holders: number }>();
  readonly #recent = new Set<string>();

  /** Register an inbound iq get/set; returns its key for `close`. */
  open(request: Element): string {
    const key = keyOf(request.attrs.from, request.attrs.id);
    const entry = this.#open.get(key);
    if (entry) entry.holders++;
    else {
      // A new request reusing an old id (a client's counter after its reconnect) is a new request.
      this.#recent.delete(key);
      this.#open.set(key, { answered: false, holders: 1 });
    }
    return key;
  }

  /**
   * Look at an outbound stanza. Returns false when it is a second answer to an inbound iq (it must
   * be dropped); true otherwise (and marks a first answer).
   */
  admit(stanza: Element): boolean {
    if (stanza.name !== "iq") return true;
    const type = stanza.attrs.type;
    if (type !== "result" && type !== "error") return true;
    const key = keyOf(stanza.attrs.to, stanza.attrs.id);
    const entry = this.#open.get(key);
    if (entry) {
      if (entry.answered) return false;
      entry.answered = true;
      return true;
    }
    return !this.#recent.has(key);
  }

  /** True when the iq under `key` has been answered. */
  answered(key: string): boolean {
    return this.#open.get(key)?.answered ?? this.#recent.has(key);
  }

  /** The pipeline for `key` ended (the caller answered it if needed): remember it as answered for a while. */
  close(key: string): void {
    const entry = this.#open.get(key);
    if (!entry || --entry.holders > 0) return;
    this.#open.delete(key);
    this.#recent.delete(key);
    this.#recent.add(key);
    if (this.#recent.size > RECENT) this.#recent.delete(this.#recent.values().next().value!);
  }
}

function keyOf(jid: unknown, id: unknown): string {
  return `${typeof jid === "string" ? jid : ""}\u0000${typeof id === "string" ? id : ""}`;
}
