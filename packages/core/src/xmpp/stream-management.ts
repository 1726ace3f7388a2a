/**
 * XEP-0198 Stream Management as an xmpp.js plugin (in place of @xmpp/stream-management 0.14, whose
 * counting and queue we had to patch): `<enable/>` after resource binding, `<resume/>` before it,
 * our `h` for inbound stanzas, `<r/>`/`<a/>`, an ack timeout for black-holed links, the final `<a/>`
 * on close. Our written stanzas wait in an `SmLedger` until acknowledged; when a session is lost
 * for good (no resumption id, `<failed/>` to `<resume/>`), the unacknowledged ones go back to the
 * outbox through its narrow `Returns` interface, and nothing else ever touches the outbox.
 */
import xml, { type Element } from "@xmpp/xml";
import { TypedEmitter } from "../emitter.ts";
import type { Logger } from "../logger.ts";
import { SmLedger } from "./sm-ledger.ts";
import type { Returns } from "./outbox.ts";

export const NS_SM = "urn:xmpp:sm:3";
const NS_STREAMS = "http://etherx.jabber.org/streams";
const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";
/** Throttle of our `<r/>` after writes: at most one per this many ms while stanzas go out. */
const REQUEST_ACK_MS = 250;
/**
 * The server's `<r/>` is answered within this many ms, by one `<a/>` for everything handled
 * meanwhile (XEP-0198 §4: the answer "MUST NOT be withheld for any condition other than a timeout.
 * For example, a client [...] might want to collect many stanzas over a period of time before
 * acking"). Prosody's mod_smacks asks once per write burst while no `<r/>` is outstanding, so an
 * answer at once costs the server an `<r/>` and an `<a/>` per message at low rates; collected,
 * it is one pair per this period.
 */
export const ANSWER_ACK_MS = 50;
/**
 * ...but at once when an `<r/>` finds this many stanzas handled since our last `<a/>`, or this many
 * are handled while an answer is due: the server's queue of unacknowledged stanzas stays short
 * (Prosody's `smacks_max_queue_size` is 500).
 */
export const ANSWER_ACK_AFTER = 100;

/** The part of an xmpp.js entity the plugin uses. */
export interface SmEntity {
  jid: { toString(): string } | null;
  send(el: Element): Promise<void>;
  _ready(resumed: boolean): void;
  hook(event: "close", fn: () => Promise<void>): void;
  on(event: string, fn: (...args: never[]) => void): unknown;
}

/** What the plugin tells its listeners. */
export interface SmEvents {
  /** XEP-0198 is settled on this stream (`<enabled/>` or `<failed/>` to `<enable/>`): stanzas may flow. */
  settled: { enabled: boolean };
  /** The previous session was resumed (`<resumed/>`): the entity is online again without binding. */
  resumed: undefined;
  /** A stanza the server refused (`policy-violation`) was taken out: never sent again. */
  refused: { el: Element; bytes: number };
  /** The server acknowledged stanzas (`<a/>`, `<resumed/>`, `<failed h/>`): `unacked` are still waiting. */
  acked: { unacked: number };
  /** The stream is gone: no acknowledgement arrives on it any more. */
  lost: undefined;
}

/** Options of `streamManagement`. */
export interface StreamManagementOptions {
  entity: SmEntity;
  streamFeatures: { use(name: string, ns: string, fn: (ctx: unknown, next: () => Promise<unknown>) => unknown): void };
  /** Where unacknowledged stanzas of a lost session go back (the outbox). */
  returns?: Returns;
  /** No `<a/>` within this long after our `<r/>`: the link is dead (`onDead`). 0: never. */
  ackTimeoutMs: number;
  /** True while the socket is not read (intake paused): an ack cannot arrive, the timeout waits on. */
  readPaused?(): boolean;
  onDead?(reason: string): void;
  logger?: Logger;
}

/** A running XEP-0198 plugin. */
export class StreamManagement extends TypedEmitter<SmEvents> {
  readonly #o: StreamManagementOptions;
  readonly #ledger = new SmLedger();
  /** `<enabled/>` or `<resumed/>` on the current stream. */
  enabled = false;
  /** `<enable/>` written, not yet answered. */
  enableSent = false;
  /** The resumption id of the session (XEP-0198 §5), "" when it cannot be resumed. */
  id = "";
  #inbound = 0;
  #frozen = false;
  /** Written stanzas are recorded (from the write of `<enable/>`, or a resumption, to the stream's end). */
  #counting = false;
  #resuming: ((r: "resumed" | "failed" | "gone") => void) | undefined;
  #requestTimer: NodeJS.Timeout | undefined;
  #ackTimer: NodeJS.Timeout | undefined;
  /** The server asked (`<r/>`) and our `<a/>` is due at the latest when this fires. */
  #answerTimer: NodeJS.Timeout | undefined;
  /** `h` of our last `<a/>`. */
  #ackedH = 0;

  constructor(o: StreamManagementOptions) {
    super();
    this.#o = o;
    const { entity } = o;
    // Registered before resource binding (as in @xmpp/client): resumption replaces binding.
    o.streamFeatures.use("sm", NS_SM, async (_ctx, next) => {
      if (this.id) {
        if ((await this.#resume()) !== "failed") return;
      }
      await next(); // resource binding
      this.enableSent = true;
      entity.send(xml("enable", { xmlns: NS_SM, resume: "true" })).catch(() => {});
    });
    entity.on("send", (el: Element) => this.#written(el));
    entity.on("element", (el: Element) => this.#received(el));
    entity.on("disconnect", () => this.#lost());
    entity.on("offline", () => {
      this.#lost();
      this.id = "";
      this.#ledger.restart();
    });
    entity.on("error", (err: Error & { condition?: string; application?: Element }) => {
      if (err.name !== "StreamError" || err.condition !== "policy-violation") return;
      const refused = this.#ledger.takeRefused(err);
      if (refused) this.emit("refused", refused);
    });
    // XEP-0198 §4: a client SHOULD send a last `<a/>` right before it closes the stream.
    entity.hook("close", async () => {
      this.#clearAnswer();
      if (this.enabled) await entity.send(this.#ackElement()).catch(() => {});
    });
  }

  /** XEP-0198 `h`: inbound stanzas handled on this session. */
  get inbound(): number {
    return this.#inbound;
  }
  /** Stanzas written and not yet acknowledged (internal ones included). */
  get unacked(): number {
    return this.#ledger.size;
  }

  /** Stop counting inbound stanzas for good: `<a h>` no longer acknowledges what arrives from now on, so the server keeps it. */
  freezeInbound(): void {
    this.#frozen = true;
  }

  /** Ask the server for an ack now (`<r/>`), arming the ack timeout. */
  requestAck(): void {
    clearTimeout(this.#requestTimer);
    this.#requestTimer = undefined;
    if (!this.enabled) return;
    this.#o.entity.send(xml("r", { xmlns: NS_SM })).catch(() => {});
    const ms = this.#o.ackTimeoutMs;
    if (this.#ackTimer || !ms) return;
    const expire = (): void => {
      // Not reading (intake paused) hides the ack: wait on; the pause ends on its own (intake.ts).
      if (this.#o.readPaused?.()) return void (this.#ackTimer = setTimeout(expire, ms).unref());
      this.#ackTimer = undefined;
      this.#o.onDead?.(`no XEP-0198 ack within ${ms} ms`);
    };
    this.#ackTimer = setTimeout(expire, ms).unref();
  }

  #written(el: Element): void {
    const name = el.name;
    if (name === "message" || name === "presence" || name === "iq") {
      if (!this.#counting) return;
      this.#ledger.record(el, Date.now());
      if (!this.#requestTimer && this.enabled) this.#requestTimer = setTimeout(() => this.requestAck(), REQUEST_ACK_MS).unref();
    } else if (name === "enable" && el.attrs.xmlns === NS_SM) {
      // §4: our counter starts once <enable/> is written; "send" events come in write order.
      this.#ledger.restart();
      this.#counting = true;
    }
  }

  // The entity's "element" event fires right after the middleware chain has run (same tick), so a
  // stanza is counted once handled, including the replies to our own iq requests.
  #received(el: Element): void {
    if (this.#ackTimer) {
      clearTimeout(this.#ackTimer);
      this.#ackTimer = undefined;
    }
    const name = el.name;
    if (name === "message" || name === "presence" || name === "iq") {
      if (!this.#frozen) this.#inbound++;
      if (this.#answerTimer && this.#inbound - this.#ackedH >= ANSWER_ACK_AFTER) this.#answer();
      return;
    }
    if (el.attrs.xmlns !== NS_SM) {
      // Features after authentication (they offer binding) without XEP-0198: nothing to resume.
      if (this.id && el.is("features", NS_STREAMS) && el.getChild("bind", NS_BIND) && !el.getChild("sm", NS_SM)) {
        this.id = "";
        this.#giveBack();
      }
      return;
    }
    if (name === "r") {
      if (!this.enabled) return;
      // A second <r/> while an answer is due: the server is waiting (§4: every <r/> gets an
      // <a/>), answer both now. Prosody and ejabberd never ask twice while one is outstanding.
      if (this.#answerTimer || this.#inbound - this.#ackedH >= ANSWER_ACK_AFTER) this.#answer();
      else this.#answerTimer = setTimeout(this.#answer, ANSWER_ACK_MS).unref();
    } else if (name === "a") {
      this.#ledger.ack(Number(el.attrs.h));
      this.emit("acked", { unacked: this.#ledger.size });
    } else if (name === "enabled") {
      this.#inbound = this.#ackedH = 0; // §4: h starts at <enabled/>
      this.enabled = true;
      this.enableSent = false;
      this.id = el.attrs.resume === "true" || el.attrs.resume === "1" ? String(el.attrs.id ?? "") : "";
      this.emit("settled", { enabled: true });
    } else if (name === "resumed") {
      this.#resuming?.("resumed");
      this.#ledger.ack(Number(el.attrs.h));
      this.enabled = true;
      this.#counting = true;
      // Not acknowledged by the old stream: written again, first (the outbox writes the oldest first);
      // our own presence too (it is state the server must have), other internal stanzas were for the old stream.
      for (const p of this.#giveBack()) this.#o.entity.send(p).catch(() => {});
      this.#o.entity._ready(true); // xmpp.js: status online, no "online" event
      this.emit("acked", { unacked: this.#ledger.size });
      this.emit("resumed", undefined);
      this.emit("settled", { enabled: true });
    } else if (name === "failed") {
      if (this.#resuming) {
        // §5: resumption refused; a `h` on <failed/> still tells what the old session handled.
        if (el.attrs.h !== undefined) this.#ledger.ack(Number(el.attrs.h));
        this.emit("acked", { unacked: this.#ledger.size });
        this.id = "";
        this.#giveBack();
        this.#resuming("failed");
        return;
      }
      // Refused <enable/>: what was written meanwhile went out on a stream without XEP-0198 (at most once).
      this.enableSent = false;
      this.#counting = false;
      this.#ledger.restart();
      this.#o.logger?.warn("server refused XEP-0198 (<failed/> to <enable/>); no delivery guarantee on this stream");
      this.emit("settled", { enabled: false });
    }
  }

  #resume(): Promise<"resumed" | "failed" | "gone"> {
    return new Promise((resolve) => {
      this.#resuming = (r) => {
        this.#resuming = undefined;
        resolve(r);
      };
      this.#ackedH = this.#inbound;
      this.#o.entity.send(xml("resume", { xmlns: NS_SM, h: String(this.#inbound), previd: this.id })).catch(() => {});
    });
  }

  /** The stream is gone: a session that cannot be resumed gives its unacknowledged stanzas back. */
  #lost(): void {
    clearTimeout(this.#requestTimer);
    clearTimeout(this.#ackTimer);
    this.#requestTimer = this.#ackTimer = undefined;
    this.#clearAnswer();
    this.enabled = this.enableSent = this.#counting = false;
    this.#resuming?.("gone");
    if (!this.id) this.#giveBack();
    this.emit("lost", undefined);
  }

  /** Unacknowledged stanzas of ours go back to the outbox; returns the internal presences among the rest. */
  #giveBack(): Element[] {
    if (this.#ledger.size === 0) return [];
    const { ours, presences } = this.#ledger.takeAll(this.#o.entity.jid?.toString() ?? "");
    if (ours.length > 0 && this.#o.returns) {
      this.#o.logger?.info("stanzas the server did not confirm (XEP-0198) go back to the outbox, to be sent again", { count: ours.length });
      this.#o.returns.takeBack(ours);
    }
    return presences;
  }

  /** Answer the server's `<r/>` now, with everything handled so far. */
  readonly #answer = (): void => {
    this.#clearAnswer();
    if (this.enabled) this.#o.entity.send(this.#ackElement()).catch(() => {});
  };

  #clearAnswer(): void {
    clearTimeout(this.#answerTimer);
    this.#answerTimer = undefined;
  }

  #ackElement(): Element {
    this.#ackedH = this.#inbound;
    return xml("a", { xmlns: NS_SM, h: String(this.#inbound) });
  }
}
