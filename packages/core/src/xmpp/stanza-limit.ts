/**
 * The size limit of outgoing stanzas: a stanza the server would refuse (Prosody closes the stream
 * with `policy-violation` past `c2s_stanza_size_limit`) is dropped before it is written, so it can
 * never wedge the connection. The limit is the server's XEP-0478 `<max-bytes/>` when it advertises
 * one, else `DEFAULT_MAX_STANZA_BYTES`; `XMPP_MAX_STANZA_BYTES` overrides the default (and may only
 * lower an advertised limit).
 */
import type { Element } from "@xmpp/xml";

/** XEP-0478 (Stream Limits Advertisement) namespace. */
export const NS_STREAM_LIMITS = "urn:xmpp:stream-limits:0";
/**
 * Without an advertised limit: 256 KiB (Prosody's `c2s_stanza_size_limit` default, ejabberd's usual
 * `max_stanza_size`) minus a 1 KiB margin for what may be added on a resend (XEP-0203 `<delay/>`).
 */
export const DEFAULT_MAX_STANZA_BYTES = 256 * 1024 - 1024;

/** `send()` refused a stanza larger than the server accepts; it was dropped, never written. */
export class StanzaTooLargeError extends Error {
  override readonly name = "StanzaTooLargeError";
  constructor(
    /** Size of the stanza's serialisation, UTF-8 bytes. */
    readonly bytes: number,
    /** The limit in force. */
    readonly limit: number,
    /** The stanza's `to`, if any. */
    readonly to: string | undefined,
  ) {
    super(`stanza of ${bytes} bytes to ${to ?? "(no to)"} exceeds the server's limit of ${limit} bytes (XMPP_MAX_STANZA_BYTES); dropped, not sent`);
    this.stack = `${this.name}: ${this.message}`; // one line in logs: the size says it all
  }
}

/** The XEP-0478 `<max-bytes/>` of a `<stream:features/>` element (§3), if it is a positive integer. */
export function advertisedMaxBytes(features: Element): number | undefined {
  const text = features.getChild("limits", NS_STREAM_LIMITS)?.getChildText("max-bytes")?.trim();
  if (!text || !/^\d{1,12}$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 ? n : undefined;
}

/** The limit in force: the setting (never above an advertised limit), else the advertised one, else the default. */
export function effectiveLimit(setting: number | undefined, advertised: number | undefined): number {
  if (setting !== undefined) return advertised !== undefined ? Math.min(setting, advertised) : setting;
  return advertised ?? DEFAULT_MAX_STANZA_BYTES;
}

/**
 * The UTF-8 size of `el`'s serialisation when it may exceed `limit`; otherwise an upper bound that
 * is at most `limit` (no serialisation for ordinary stanzas). The walk is iterative: no depth limit.
 */
export function stanzaBytes(el: Element, limit: number): number {
  // Upper bound: a UTF-16 unit is at most 3 UTF-8 bytes, an escaped character at most 6 (`&quot;`).
  let bound = 0;
  const stack: Element[] = [el];
  while (stack.length > 0) {
    const e = stack.pop()!;
    bound += e.name.length * 6 + 5;
    for (const k in e.attrs) {
      const v: unknown = e.attrs[k];
      if (v !== undefined && v !== null) bound += k.length * 3 + String(v).length * 6 + 4;
    }
    for (const c of e.children) {
      if (typeof c === "string") bound += c.length * 6;
      else stack.push(c);
    }
    if (bound > limit) return serializedBytes(el);
  }
  return bound;
}

/** Exactly `Buffer.byteLength(el.toString())` (ltx's serialisation and escaping), without recursion. */
export function serializedBytes(el: Element): number {
  let n = 0;
  const stack: Element[] = [el];
  while (stack.length > 0) {
    const e = stack.pop()!;
    const name = Buffer.byteLength(e.name, "utf8");
    n += 1 + name; // <name
    for (const k in e.attrs) {
      const v: unknown = e.attrs[k];
      if (v !== null && v !== undefined) n += 4 + Buffer.byteLength(k, "utf8") + escapedBytes(String(v), true); // ␠k="v"
    }
    if (e.children.length === 0) {
      n += 2; // />
      continue;
    }
    n += 4 + name; // > and </name>
    for (const c of e.children as unknown[]) {
      if (c === null || c === undefined) continue;
      if (typeof c === "string") n += escapedBytes(c, false);
      else if (typeof (c as Element).write === "function") stack.push(c as Element);
      else n += escapedBytes(String(c), false);
    }
  }
  return n;
}

/** UTF-8 bytes of `s` once escaped: `& < >` in text, also `" '` in attribute values. */
function escapedBytes(s: string, attr: boolean): number {
  let n = Buffer.byteLength(s, "utf8");
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 38) n += 4; // &amp;
    else if (c === 60 || c === 62) n += 3; // &lt; &gt;
    else if (attr && (c === 34 || c === 39)) n += 5; // &quot; &apos;
  }
  return n;
}
