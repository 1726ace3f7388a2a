// The inbound redelivery filter in Redis, under the account: a transport wrapper that drops a chat message another worker (or an earlier session) of the same account already took, so a takeover never answers a message twice.
import { TypedEmitter, type Element, type Transport, type TransportEvents } from "@botrun/core";
import type { FleetRedis } from "./redis.ts";

/** How long a message id is remembered (offline storage redelivers within a takeover's seconds; 1 h leaves room). */
export const SEEN_TTL_MS = 60 * 60_000;
/** Longest message id kept (longer ones are not deduplicated rather than stored). */
const MAX_ID = 256;
const FORWARDED = ["online", "resumed", "offline", "reconnecting", "token-refreshed", "fatal"] as const;

/** Options of `SeenFilterTransport`. */
export interface SeenFilterOptions {
  redis: FleetRedis;
  /** Key prefix of this account, e.g. `botrun:fleet:<bot>:seen:{<jid>}:`. */
  prefix: string;
  ttlMs?: number;
  /** Told of each message dropped as already seen. */
  onDuplicate?: (stanza: Element) => void;
}

/**
 * Wraps an account's transport. Each inbound `<message>` with an id (chat and normal; not errors,
 * groupchat or headlines) is claimed with `SET <prefix><sender's full JID>|<id> 1 NX PX ttl` before the bot
 * sees it; a message already claimed is dropped. Stanzas are passed on in arrival order. If Redis
 * cannot be asked, the message is passed on (better a rare duplicate than a lost message).
 */
export class SeenFilterTransport extends TypedEmitter<TransportEvents> implements Transport {
  readonly #inner: Transport;
  readonly #o: SeenFilterOptions;
  #chain: Promise<void> = Promise.resolve();
  /** Messages dropped as already seen. */
  duplicates = 0;

  constructor(inner: Transport, o: SeenFilterOptions) {
    super();
    this.#inner = inner;
    this.#o = o;
    const forward = <K extends (typeof FORWARDED)[number]>(event: K) => inner.on(event, (p: TransportEvents[K]) => void this.emit(event, p));
    for (const event of FORWARDED) forward(event);
    inner.on("stanza", (el) => {
      const claim = this.#claim(el);
      this.#chain = this.#chain
        .then(async () => {
          if (await claim) this.emit("stanza", el);
          else {
            this.duplicates++;
            this.#o.onDuplicate?.(el);
          }
        })
        .catch(() => undefined); // a throwing listener must not stop the stanzas after it
    });
  }

  get kind(): string {
    return this.#inner.kind;
  }
  get jid(): string | undefined {
    return this.#inner.jid;
  }
  /** The runtime sets it (XEP-0115 caps on the first presence); the wrapped transport sends it. */
  get initialPresence(): (() => Element) | undefined {
    return this.#inner.initialPresence;
  }
  set initialPresence(fn: (() => Element) | undefined) {
    this.#inner.initialPresence = fn;
  }
  /** The wrapped transport. */
  get inner(): Transport {
    return this.#inner;
  }
  start(): Promise<void> {
    return this.#inner.start();
  }
  send(stanza: Element): Promise<void> {
    return this.#inner.send(stanza);
  }
  pauseInbound(): void {
    this.#inner.pauseInbound?.();
  }
  stop(): Promise<void> {
    return this.#inner.stop();
  }

  /** True if this message is ours to handle (first claim, or not a message we deduplicate). */
  async #claim(el: Element): Promise<boolean> {
    const { id, from, type } = el.attrs as Record<string, string | undefined>;
    if (el.name !== "message" || !id || !from || id.length > MAX_ID || type === "error" || type === "groupchat" || type === "headline") return true;
    try {
      const key = `${this.#o.prefix}${from}|${id}`; // the full JID: ids are only unique per sending client
      return (await this.#o.redis.set(key, "1", "PX", this.#o.ttlMs ?? SEEN_TTL_MS, "NX")) === "OK";
    } catch {
      return true;
    }
  }
}
