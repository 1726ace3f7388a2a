/**
 * The outbox's `Wire` for one session, and the size check on the way to it: a stanza over the
 * server's limit (stanza-limit.ts) is dropped with a warning instead of written, so it can never
 * wedge the connection. A stanza is measured once (the size is remembered on it).
 */
import type { Element } from "@xmpp/xml";
import type { BotConfig } from "../config/config.ts";
import type { XmppEntity } from "./client.ts";
import type { Wire } from "./outbox.ts";
import { effectiveLimit, stanzaBytes, StanzaTooLargeError } from "./stanza-limit.ts";
import type { Link } from "./link.ts";

/** An outgoing stanza's measured size (or an upper bound of it), so a write does not measure it again. */
const SIZE = Symbol("botrun.size");

/** The size limit in force and the stanzas it dropped. */
export class SizeGuard {
  /** The current stream's XEP-0478 `<max-bytes/>`, if advertised. */
  advertised: number | undefined;
  /** Stanzas dropped for their size (a metric). */
  dropped = 0;
  constructor(
    readonly config: BotConfig,
    readonly link: Link,
  ) {}

  /** Largest outgoing stanza accepted now, UTF-8 bytes. */
  get limit(): number {
    return effectiveLimit(this.config.tuning.maxStanzaBytes, this.advertised);
  }

  /** An error (after logging and counting the drop) if `el` is over the limit in force, else undefined. */
  tooLarge(el: Element, when: string): StanzaTooLargeError | undefined {
    const limit = this.limit;
    const sized = el as Element & { [SIZE]?: number };
    // Measured when it was queued and still under the limit (the echo path measures once).
    if (sized[SIZE] !== undefined && sized[SIZE] <= limit) return undefined;
    const bytes = stanzaBytes(el, limit);
    sized[SIZE] = bytes;
    if (bytes <= limit) return undefined;
    this.dropped++;
    const to = el.attrs.to as string | undefined;
    this.link.log.warn("stanza too large for the server: dropped, not sent", { bytes, limit, to, stanza: el.name, id: el.attrs.id, when });
    return new StanzaTooLargeError(bytes, limit, to);
  }
}

/** The wire of the current session: writes while the entity is online, rejects once it is not. */
export function sessionWire(entity: XmppEntity, link: Link, size: SizeGuard): Wire {
  const offline = (): Promise<void> => Promise.reject(new Error("offline"));
  return {
    write(el) {
      if ((link.phase !== "online" && link.phase !== "stopping") || entity.status !== "online") return offline();
      // Queued under another stream's limit (or handed back with a <delay/> added): dropped, not written.
      if (size.tooLarge(el, "when writing")) return Promise.resolve();
      return entity.send(el);
    },
  };
}
