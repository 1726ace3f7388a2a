/**
 * XEP-0198's record of our written, not yet acknowledged stanzas (one per session, kept across a
 * resumption): appended once a stanza is on the wire, trimmed by the server's `h`, and emptied into
 * the outbox when the session is lost for good. Write times are kept as numbers (formatted only
 * for the rare resend's `<delay/>`), so recording a stanza allocates nothing.
 */
import xml, { type Element } from "@xmpp/xml";
import { isInternal } from "./internal-stanzas.ts";
import { serializedBytes } from "./stanza-limit.ts";

/** RFC 6120 §13.12: servers accept stanzas of at least this size, so a refused smaller one is not "too big". */
const MIN_STANZA_LIMIT = 10_000;

/** Written stanzas awaiting the server's acknowledgement, oldest first. */
export class SmLedger {
  #els: Element[] = [];
  #at: number[] = [];
  #head = 0;
  /** The server's `h` for our stanzas on this session (XEP-0198 §4), as last applied. */
  #acked = 0;

  /** Stanzas not yet acknowledged. */
  get size(): number {
    return this.#els.length - this.#head;
  }

  /** Counting starts (again) from zero: `<enable/>` was written (XEP-0198 §4). */
  restart(): void {
    this.#els = [];
    this.#at = [];
    this.#head = 0;
    this.#acked = 0;
  }

  /** `el` was written to the wire while counting. */
  record(el: Element, now: number): void {
    this.#els.push(el);
    this.#at.push(now);
  }

  /** The server has handled our first `h` stanzas of the session (mod 2^32, XEP-0198 §5). */
  ack(h: number): void {
    if (!Number.isFinite(h)) return;
    const diff = (h - this.#acked) >>> 0;
    if (diff === 0 || diff > 0x7fffffff) return; // nothing new, or an `h` behind ours (ignored)
    const n = Math.min(diff, this.size);
    this.#acked = (this.#acked + n) >>> 0;
    this.#head += n;
    if (this.#head === this.#els.length) {
      this.#els = [];
      this.#at = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#els.length) {
      this.#els = this.#els.slice(this.#head);
      this.#at = this.#at.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * Everything unacknowledged, in order: the outbox's stanzas (`ours`), and the transport's own
   * presences (other internal stanzas, pings and their replies, were for the dead stream). Messages
   * carry a XEP-0203 `<delay/>` with their first write time. The ledger is empty after.
   */
  takeAll(from: string): { ours: Element[]; presences: Element[] } {
    const out: Element[] = [];
    const presences: Element[] = [];
    for (let i = this.#head; i < this.#els.length; i++) {
      const el = this.#els[i]!;
      if (isInternal(el)) {
        if (el.name === "presence") presences.push(el);
        continue;
      }
      if (el.name === "message" && from && !el.getChild("delay", "urn:xmpp:delay")) {
        el.append(xml("delay", { xmlns: "urn:xmpp:delay", from, stamp: new Date(this.#at[i]!).toISOString() }));
      }
      out.push(el);
    }
    this.#els = [];
    this.#at = [];
    this.#head = 0;
    return { ours: out, presences };
  }

  /**
   * The server closed the stream with `policy-violation` (RFC 6120 §4.9.3.14), e.g. Prosody for a
   * stanza over `c2s_stanza_size_limit`. The stanza it refused is the first of ours it has not
   * acknowledged: a server handles stanzas in order, and Prosody sends a final `<a h/>` before the
   * error (XEP-0198 §4). It is taken out here, so neither a resumption nor the outbox sends it again
   * (everything behind it flows on). One under 10000 bytes is not taken for too big unless the
   * server says so (`<stanza-too-big xmlns='urn:xmpp:errors'/>`).
   */
  takeRefused(streamError: { application?: Element }): { el: Element; bytes: number } | undefined {
    let i = this.#head;
    while (i < this.#els.length && isInternal(this.#els[i]!)) i++;
    if (i === this.#els.length) return undefined;
    const el = this.#els[i]!;
    const bytes = serializedBytes(el);
    if (streamError.application?.name !== "stanza-too-big" && bytes <= MIN_STANZA_LIMIT) return undefined;
    this.#els.splice(i, 1);
    this.#at.splice(i, 1);
    return { el, bytes };
  }
}
