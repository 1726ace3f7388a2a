/**
 * The runtime's side of answering inbound IQs exactly once (RFC 6120 §8.2.3): checks a get/set's
 * shape, opens a ledger entry for its trip through the pipeline, drops second answers, and answers
 * what the pipeline left unanswered.
 */
import type { Element } from "@xmpp/xml";
import type { Context } from "../context.ts";
import type { Logger } from "../logger.ts";
import { iqError, StanzaError } from "../stanza.ts";
import { IqLedger } from "./ledger.ts";

/** Answers inbound IQs once. */
export class IqAnswers {
  readonly #ledger = new IqLedger();

  constructor(
    private readonly send: (stanza: Element) => Promise<void>,
    private readonly log: Logger,
  ) {}

  /**
   * An iq needs an id, and a get/set exactly one child element (RFC 6120 §8.2.3); returns false for
   * one that does not (a get/set with an id is answered `bad-request`), which is not handled further.
   */
  wellFormed(stanza: Element): boolean {
    const type = stanza.attrs.type;
    if (typeof stanza.attrs.id !== "string" || stanza.attrs.id === "") return false;
    if (type !== "get" && type !== "set") return type === "result" || type === "error";
    if (stanza.getChildElements().length === 1) return true;
    void this.send(iqError(stanza, new StanzaError("bad-request", "modify", "an iq get/set carries exactly one child element"))).catch(() => {});
    return false;
  }

  /** The ledger key of an inbound get/set about to run through the pipeline; undefined for anything else. */
  open(ctx: Context): string | undefined {
    return ctx.kind === "iq" && (ctx.type === "get" || ctx.type === "set") ? this.#ledger.open(ctx.stanza) : undefined;
  }

  /** False for a second answer to an inbound iq: it must be dropped (and is logged). */
  admit(stanza: Element): boolean {
    if (this.#ledger.admit(stanza)) return true;
    this.log.warn("dropped a second reply to an iq (an iq is answered once)", { id: stanza.attrs.id, type: stanza.attrs.type });
    return false;
  }

  /**
   * The pipeline of the iq under `key` ended, with `failure` if it threw. Unanswered, it gets: the
   * StanzaError a handler threw, `internal-server-error` for any other error, else
   * `service-unavailable` (§8.4: nothing here handles that namespace).
   */
  async finish(ctx: Context, key: string, failure: unknown): Promise<void> {
    try {
      if (this.#ledger.answered(key)) return;
      const error =
        failure instanceof StanzaError
          ? failure
          : new StanzaError(failure === undefined ? "service-unavailable" : "internal-server-error", "cancel");
      await this.send(iqError(ctx.stanza, error));
    } catch (error) {
      this.log.warn("could not answer an iq", { error });
    } finally {
      this.#ledger.close(key);
    }
  }
}
