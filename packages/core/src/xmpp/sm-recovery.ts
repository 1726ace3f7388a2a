/**
 * What becomes of XEP-0198's unacknowledged stanzas when a stream ends badly: sent again on the
 * next stream when the old one cannot be resumed, or dropped when the server refused one of them.
 */
import type { Element } from "@xmpp/xml";
import { isInternal, type StreamManagementState } from "./client.ts";
import { serializedBytes } from "./stanza-limit.ts";

/** RFC 6120 §13.12: servers accept stanzas of at least this size, so a refused smaller one is not "too big". */
const MIN_STANZA_LIMIT = 10_000;

/**
 * Stanzas written on a stream that cannot be resumed (`<enable/>` never answered, or XEP-0198
 * enabled without resumption) and not acknowledged: taken out of xmpp.js's queue (which would keep
 * them for a resumption that never comes, and fail its next `<enable/>` on the non-empty queue), in
 * their original order, without our internal ones. Undefined when the stream may be resumed.
 */
export function takeUnresumable(sm: StreamManagementState): Element[] | undefined {
  if (sm.id || sm.outbound_q.length === 0) return undefined;
  const q = sm.outbound_q;
  sm.outbound_q = [];
  sm.outbound = 0;
  return q.map((item) => item.stanza).filter((el) => !isInternal(el));
}

/**
 * The server closed the stream with `policy-violation` (RFC 6120 §4.9.3.14), e.g. Prosody for a
 * stanza over `c2s_stanza_size_limit`. The stanza it refused is the first of ours it has not
 * acknowledged: a server handles stanzas in order, and Prosody sends a final `<a h/>` before the
 * error (XEP-0198 §4). It is taken out of the queue here, so neither a resumption nor a requeue
 * sends it again (everything behind it flows on); the ones before it were handled (or, without
 * that final ack, are dropped in turn should the server refuse again: each was handled or is the
 * refused one). One under 10000 bytes is not taken for too big unless the server says so
 * (`<stanza-too-big xmlns='urn:xmpp:errors'/>`).
 */
export function takeRefused(sm: StreamManagementState, streamError: { application?: Element }): { el: Element; bytes: number } | undefined {
  const i = sm.outbound_q.findIndex((item) => !isInternal(item.stanza));
  if (i === -1) return undefined;
  const el = sm.outbound_q[i]!.stanza;
  const bytes = serializedBytes(el);
  if (streamError.application?.name !== "stanza-too-big" && bytes <= MIN_STANZA_LIMIT) return undefined;
  sm.outbound_q.splice(i, 1);
  return { el, bytes };
}
