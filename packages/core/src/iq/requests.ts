/**
 * Outbound IQ requests (RFC 6120 §8.2.3): send an iq get/set, match the inbound result or error
 * by id and sender, resolve or reject, with a timeout. Transport-agnostic: the runtime hands every
 * inbound iq result/error to `settle()` before its pipeline.
 */
import type { Element } from "@xmpp/xml";
import { bare } from "../jid.ts";
import { readStanzaError, stanzaId } from "../stanza.ts";

/** Options of `request()`. */
export interface RequestOptions {
  /** How long to wait for the reply, in ms. Default 30 s. */
  timeoutMs?: number;
}

/** The reply to an iq request did not come in time. */
export class IqTimeoutError extends Error {
  override readonly name = "IqTimeoutError";
  constructor(
    readonly id: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to iq ${id} within ${timeoutMs} ms`);
  }
}

/** A request could not be sent or waited for (bad stanza, too many pending, stopped). */
export class IqRequestError extends Error {
  override readonly name = "IqRequestError";
}

interface Pending {
  readonly to: string;
  readonly resolve: (el: Element) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Options of `IqRequests`. */
export interface IqRequestsOptions {
  /** Sends the request (through the bot's send transformers). */
  send(stanza: Element): Promise<void>;
  /** The bot's own full JID while online. */
  self(): string | undefined;
  /** At most this many requests wait at once; more are rejected. Default 1000. */
  maxPending?: number;
  /** Default timeout, ms. Default 30 s. */
  defaultTimeoutMs?: number;
}

/** The pending outbound iq requests of one bot. */
export class IqRequests {
  readonly #pending = new Map<string, Pending>();
  readonly #opts: IqRequestsOptions;
  readonly #max: number;
  #closed: Error | undefined;

  constructor(opts: IqRequestsOptions) {
    this.#opts = opts;
    this.#max = opts.maxPending ?? 1000;
  }

  /** Requests waiting for their reply. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Send `iq` (type get or set; an id is assigned when it has none) and resolve with the
   * `type="result"` reply, or reject with a `StanzaError` (type error), `IqTimeoutError`,
   * or `IqRequestError` (stopped, too many pending, not an iq get/set, duplicate id).
   * A request stays pending across a reconnect (the outbox may send it again); it ends with
   * its reply, its timeout or `close()`.
   */
  request(iq: Element, opts: RequestOptions = {}): Promise<Element> {
    if (this.#closed) return Promise.reject(this.#closed);
    const type = iq.attrs.type;
    if (iq.name !== "iq" || (type !== "get" && type !== "set")) {
      return Promise.reject(new IqRequestError(`request() needs an <iq type="get|set">, got <${iq.name} type="${String(type)}">`));
    }
    if (this.#pending.size >= this.#max) {
      return Promise.reject(new IqRequestError(`too many pending iq requests (${this.#max})`));
    }
    if (!iq.attrs.id) iq.attrs.id = stanzaId();
    const id = String(iq.attrs.id);
    if (this.#pending.has(id)) return Promise.reject(new IqRequestError(`an iq request with id "${id}" is already pending`));
    const timeoutMs = opts.timeoutMs ?? this.#opts.defaultTimeoutMs ?? 30_000;
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => this.#finish(id, new IqTimeoutError(id, timeoutMs)), timeoutMs);
      timer.unref?.();
      this.#pending.set(id, { to: String(iq.attrs.to ?? ""), resolve, reject, timer });
      this.#opts.send(iq).catch((error: unknown) => this.#finish(id, error instanceof Error ? error : new IqRequestError(String(error))));
    });
  }

  /**
   * Look at an inbound stanza: if it is the result or error answering a pending request (same id,
   * from the JID it was sent to, RFC 6120 §8.1.2.1), settle that request and return true (the
   * stanza is consumed). Anything else returns false.
   */
  settle(stanza: Element): boolean {
    if (stanza.name !== "iq") return false;
    const type = stanza.attrs.type;
    if (type !== "result" && type !== "error") return false;
    const id = stanza.attrs.id;
    if (typeof id !== "string") return false;
    const pending = this.#pending.get(id);
    if (!pending || !this.#fromMatches(pending.to, String(stanza.attrs.from ?? ""))) return false;
    if (type === "result") this.#finish(id, undefined, stanza);
    else this.#finish(id, readStanzaError(stanza)!);
    return true;
  }

  /** Reject every pending request with `reason` and refuse new ones (the bot stopped). */
  close(reason = "the bot stopped"): void {
    this.#closed = new IqRequestError(reason);
    for (const id of [...this.#pending.keys()]) this.#finish(id, this.#closed);
  }

  #finish(id: string, error: Error | undefined, result?: Element): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(result!);
  }

  /**
   * A reply comes from the JID the request went to. A request with no `to` (or to the bot's own
   * bare JID) is answered by the server on the account's behalf: no `from`, or the bare or full JID.
   */
  #fromMatches(to: string, from: string): boolean {
    const self = this.#opts.self();
    const own = self ? bare(self).toLowerCase() : undefined;
    const t = normalize(to);
    const f = normalize(from);
    if (t === "" || t === own) return f === "" || f === own || (self !== undefined && f === normalize(self));
    return f === t;
  }
}

/** JIDs compare case-insensitively except the resource (RFC 7622: the resource is case-sensitive). */
function normalize(jid: string): string {
  const slash = jid.indexOf("/");
  return slash === -1 ? jid.toLowerCase() : jid.slice(0, slash).toLowerCase() + jid.slice(slash);
}
