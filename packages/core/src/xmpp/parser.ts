/**
 * The XML stream parser botrun reads the wire with: @xmpp/xml's parser made safe against hostile
 * input. A parser error never throws out of `write()` (ltx throws on `&bogus;`); it becomes one
 * `error` event carrying the RFC 6120 §4.9.3 stream error condition, and the rest of the stream
 * is ignored. Elements deeper than `MAX_STANZA_DEPTH` are not built, so every recursive walk over
 * a received element (clone, toString, getNS, the debug trace) is bounded; one larger than
 * `MAX_STANZA_CHARS` ends the stream.
 */
import { Parser, type Element } from "@xmpp/xml";

/**
 * Deepest element kept, counting the top-level stanza as level 1. Real stanzas are far shallower
 * (a carbon-copied or archived message: message/result/forwarded/message/body is 5 levels).
 */
export const MAX_STANZA_DEPTH = 100;

/**
 * Characters one top-level element may take. Not a protocol limit (servers cap what clients send,
 * not what they deliver) but a bound on what a hostile server can make us hold in memory.
 */
export const MAX_STANZA_CHARS = 4 * 1024 * 1024;

/** RFC 6120 §4.9.3 conditions a parser failure maps to. */
export type ParserCondition = "not-well-formed" | "restricted-xml" | "policy-violation" | "internal-server-error";

/** A parse failure on the wire; `condition` is the stream error botrun answers with. */
export class WireXmlError extends Error {
  override readonly name = "XMLError";
  constructor(
    readonly condition: ParserCondition,
    detail: string,
  ) {
    super(`${condition}: ${detail}`);
  }
}

/** Characters an XML declaration may take before the stream header. */
const MAX_PRELUDE = 1024;

const TRUNCATED = Symbol("botrun.truncated");

/** True for a top-level element whose subtree went deeper than `MAX_STANZA_DEPTH` (children beyond it were dropped). */
export const isTruncated = (el: Element): boolean => Boolean((el as { [TRUNCATED]?: boolean })[TRUNCATED]);

/** Map what ltx throws to a stream error condition. */
function classify(err: unknown): WireXmlError {
  const message = err instanceof Error ? err.message : String(err);
  // RFC 6120 §11.1: no entity references but the five predefined ones -> <restricted-xml/> (§4.9.3.18).
  if (/Illegal XML entity/.test(message)) return new WireXmlError("restricted-xml", message);
  // Anything else (a character reference to a character XML forbids, ...): §4.9.3.13.
  return new WireXmlError("not-well-formed", message);
}

/** @xmpp/xml's stream parser, hardened (see the module comment). One per stream. */
export class WireParser extends Parser {
  /** The first failure; set once, after which input is ignored. */
  failure: WireXmlError | undefined;
  /** Depth of the cursor below the stream root (0: between stanzas). */
  #depth = 0;
  /** Open elements inside a pruned subtree (not built). */
  #skipped = 0;
  #truncated = false;
  /** Characters written since the last top-level element ended (approximately: counted per write). */
  #sinceElement = 0;
  /** Input before the stream header, held while an XML declaration is incomplete. */
  #prelude = "";
  /** Input after the last "<" or ">" so far, not yet given to ltx. */
  #held = "";
  /** Inside a CDATA section (for `#restricted`). */
  #inCdata = false;
  /** End of the previous write that `#restricted` could not decide yet ("<", "<![CD", "]]"). */
  #carry = "";

  constructor() {
    super();
    // ltx hands each tag and text to @xmpp/xml's Parser through an EventEmitter and bound
    // listeners (onStartElement, onEndElement, onText); here it calls the same three directly.
    const sax = this.parser as unknown as { emit(event: string | symbol, ...args: unknown[]): boolean };
    const emit = sax.emit;
    sax.emit = (event, a, b) => {
      if (event === "startElement") this.onStartElement(a as string, b as Record<string, string>);
      else if (event === "endElement") this.onEndElement(a as string);
      else if (event === "text") this.onText(a as string);
      else return emit.call(sax, event, a, b);
      return true;
    };
  }

  override write(data: string): void {
    if (this.failure) return;
    if (!this.root) {
      // ltx looks for the "?>" of `<?xml ...?>` inside one write only: split across two, it would
      // swallow the stream header. Hold the prelude until the declaration is complete.
      const prelude = (this.#prelude += data).trimStart();
      if (prelude === "" || prelude === "<" || (prelude.startsWith("<?") && !prelude.includes("?>"))) {
        if (prelude.length > MAX_PRELUDE) this.#fail(new WireXmlError("not-well-formed", "no stream header"));
        return;
      }
      data = this.#prelude;
      this.#prelude = "";
    } else {
      const restricted = this.#restricted(data);
      if (restricted) return this.#fail(new WireXmlError("restricted-xml", restricted));
    }
    this.#sinceElement += data.length;
    // ltx re-scans the rest of a write for "<" at each character of text (quadratic in the write's
    // length: a 16 KB TLS record of text cost ~5 ms). Input after the last "<" or ">" cannot end
    // anything; it is held and given to ltx with the next markup, so every text run meets its "<".
    // (A read ending in ">", the usual case, is given whole, without copying.)
    const cut = data.charCodeAt(data.length - 1) === 62 ? data.length : Math.max(data.lastIndexOf("<"), data.lastIndexOf(">")) + 1;
    let feed: string;
    if (cut === 0) {
      feed = "";
      this.#held += data;
    } else {
      feed = this.#held === "" && cut === data.length ? data : this.#held + data.slice(0, cut);
      this.#held = data.slice(cut);
    }
    try {
      if (feed) this.parser.write(feed);
    } catch (err) {
      this.#fail(classify(err));
      return;
    }
    // RFC 6120 §4.9.3.14: "a stanza exceeds a configured size limit". Counted between elements
    // too: a start tag that never ends (endless attributes) is held by ltx as well.
    if (this.#sinceElement > MAX_STANZA_CHARS) {
      this.#fail(new WireXmlError("policy-violation", `an element larger than ${MAX_STANZA_CHARS} characters`));
    }
  }

  override onStartElement(name: string, attrs?: Record<string, string>): void {
    if (this.failure) return;
    if (this.#skipped > 0 || (this.root && this.#depth >= MAX_STANZA_DEPTH)) {
      this.#skipped++;
      this.#truncated = true;
      return;
    }
    const inStream = this.root !== null;
    // try/catch here rather than a helper taking a closure: this runs for every element.
    try {
      super.onStartElement(name, attrs);
    } catch (err) {
      this.#listenerFailed(err);
    }
    if (inStream) this.#depth++;
  }

  override onEndElement(name: string): void {
    if (this.failure) return;
    if (this.#skipped > 0) {
      this.#skipped--;
      return;
    }
    const { cursor, root } = this;
    if (!cursor || name !== cursor.name) {
      this.#fail(new WireXmlError("not-well-formed", cursor ? `</${name}> closes <${cursor.name}>` : `</${name}> before the stream`));
      return;
    }
    if (cursor !== root) {
      this.#depth--;
      if (this.#depth === 0) {
        this.#sinceElement = 0;
        if (this.#truncated) Object.assign(cursor, { [TRUNCATED]: true });
        this.#truncated = false;
      }
    }
    try {
      super.onEndElement(name);
    } catch (err) {
      this.#listenerFailed(err);
    }
  }

  override onText(str: string): void {
    if (this.failure || this.#skipped > 0) return;
    const { cursor, root } = this;
    if (!cursor) {
      if (str.trim() !== "") this.#fail(new WireXmlError("not-well-formed", "text before the stream header"));
      return;
    }
    // Between stanzas: whitespace keepalives (RFC 6120 §4.6.1). Not kept, so they cannot pile up on the root.
    if (cursor === root) return;
    super.onText(str);
  }

  /**
   * RFC 6120 §11.1: after the stream header no comment, processing instruction or DTD may appear
   * (CDATA sections may). ltx skips them silently, and one split across two reads swallows the
   * stanzas after it; found here, they end the stream with <restricted-xml/> (§4.9.3.18).
   * Returns what was found, if anything.
   */
  #restricted(data: string): string | undefined {
    // The usual read: nothing pending, no "<!" or "<?" in it, not ending in "<". Two native scans
    // decide it (the loop below would find nothing either).
    if (!this.#inCdata && this.#carry === "" && data.indexOf("<!") === -1 && data.indexOf("<?") === -1 && data.charCodeAt(data.length - 1) !== 60) {
      return undefined;
    }
    const text = this.#carry + data;
    this.#carry = "";
    let i = 0;
    while (i < text.length) {
      if (this.#inCdata) {
        const end = text.indexOf("]]>", i);
        if (end === -1) {
          this.#carry = text.slice(Math.max(i, text.length - 2));
          return undefined;
        }
        this.#inCdata = false;
        i = end + 3;
        continue;
      }
      const lt = text.indexOf("<", i);
      if (lt === -1) return undefined;
      const next = text[lt + 1];
      if (next === "?") return "a processing instruction";
      if (next === "!") {
        const rest = text.slice(lt + 2, lt + 9);
        if (rest === "[CDATA[") {
          this.#inCdata = true;
          i = lt + 9;
          continue;
        }
        if (!"[CDATA[".startsWith(rest)) return rest.startsWith("--") ? "a comment" : "a DTD";
      }
      if (next === undefined || next === "!") {
        this.#carry = text.slice(lt); // "<" or a CDATA opening cut short: decided with the next write
        return undefined;
      }
      i = lt + 1;
    }
    return undefined;
  }

  /**
   * A step that emits to the connection's listeners threw. That must not pass for bad input, nor
   * escape into the socket's data handler (an uncaught exception): the stream ends with
   * <internal-server-error/> (RFC 6120 §4.9.3.8) and the transport reconnects.
   */
  #listenerFailed(err: unknown): void {
    this.#fail(new WireXmlError("internal-server-error", `a listener threw: ${err instanceof Error ? err.message : String(err)}`));
  }

  #fail(err: WireXmlError): void {
    if (this.failure) return; // one error per stream, even if a listener of the first one throws
    this.failure = err;
    this.emit("error", err);
  }
}

/** The part of an xmpp.js entity `specificStreamErrors` changes. */
interface StreamErrorEntity {
  parser: unknown;
  _streamError(condition: string, children?: unknown): Promise<unknown>;
}

/**
 * xmpp.js answers every parser error with `<bad-format/>`; RFC 6120 §4.9.3.1 recommends the more
 * specific condition, which the failed `WireParser` knows (it is still attached when xmpp.js sends).
 */
export function specificStreamErrors(entity: StreamErrorEntity): void {
  const streamError = entity._streamError.bind(entity);
  entity._streamError = (condition, children) => {
    const failure = entity.parser instanceof WireParser ? entity.parser.failure : undefined;
    return streamError(condition === "bad-format" && failure ? failure.condition : condition, children);
  };
}
