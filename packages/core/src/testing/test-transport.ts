/**
 * An in-memory transport for offline tests. It records what the bot sends, and plays a
 * small MUC service: a presence to `room/nick` is answered with self-presence, and a
 * group-chat message is echoed back from the bot's own nick, as a real room does.
 */
import type { Element } from "@xmpp/xml";
import { TypedEmitter } from "../emitter.ts";
import { simulatedReply, simulateIqReply } from "../iq/server-sim.ts";
import { MucSimulator } from "../muc/simulator.ts";
import type { StanzaError } from "../stanza.ts";
import type { Transport, TransportEvents } from "../transport.ts";

/** Options of `TestTransport`. */
export interface TestTransportOptions {
  /** The bot's full JID. */
  jid?: string;
  /** Simulate MUC self-presence and echoes (default true). */
  muc?: boolean;
  /** Answers the bot's iq requests (see `IqResponder`). Default: as a server would (`simulateIqReply`). */
  iq?: IqResponder;
}

/**
 * Answers an iq get/set the bot sent: an element becomes the result's payload, `null` an empty
 * result, a `StanzaError` an error reply; `undefined` leaves it unanswered (answer it later with
 * `Harness.respond`).
 */
export type IqResponder = (iq: Element) => Element | null | StanzaError | undefined;

/** A transport that keeps everything in memory. */
export class TestTransport extends TypedEmitter<TransportEvents> implements Transport {
  readonly kind = "test";
  readonly sent: Element[] = [];
  /** Set by the runtime (see `Transport.initialPresence`); the test transport announces nothing itself. */
  initialPresence: (() => Element) | undefined = undefined;
  readonly #jid: string;
  readonly #muc: MucSimulator | undefined;
  readonly #iq: IqResponder | undefined;
  #online = false;
  #pending = 0;
  #waiters = new Set<() => void>();

  constructor(opts: TestTransportOptions = {}) {
    super();
    this.#jid = opts.jid ?? "bot@botrun.test/test";
    this.#iq = opts.iq;
    this.#muc = opts.muc === false ? undefined : new MucSimulator((el) => this.#later(el), () => this.#jid);
  }

  get jid(): string | undefined {
    return this.#online ? this.#jid : undefined;
  }

  /** Rooms the bot has joined, with its nick. */
  get rooms(): ReadonlyMap<string, string> {
    return this.#muc?.rooms ?? new Map();
  }

  /** Stanzas emitted by the simulated room that the runtime has not yet been handed. */
  get pending(): number {
    return this.#pending;
  }

  async start(): Promise<void> {
    this.#online = true;
    this.emit("online", { jid: this.#jid, resumed: false });
  }

  async send(stanza: Element): Promise<void> {
    this.sent.push(stanza);
    for (const w of [...this.#waiters]) w();
    this.#muc?.outbound(stanza);
    const reply = this.#answer(stanza);
    if (reply) this.#later(reply);
  }

  #answer(stanza: Element): Element | undefined {
    if (stanza.name !== "iq" || (stanza.attrs.type !== "get" && stanza.attrs.type !== "set")) return undefined;
    if (!this.#iq) return simulateIqReply(stanza, this.#jid);
    const r = this.#iq(stanza);
    return r === undefined ? undefined : simulatedReply(stanza, r, this.#jid);
  }

  async stop(): Promise<void> {
    this.#online = false;
  }

  /** Deliver an inbound stanza to the bot. */
  receive(stanza: Element): void {
    this.emit("stanza", stanza);
  }

  /** Go offline without a new session (sends are still recorded, as an outbox would hold them). */
  disconnect(reason = "test disconnect"): void {
    this.#online = false;
    this.emit("offline", { reason });
  }

  /** Come back after `disconnect()`: a resumed stream (`resumed`), or a new session (`online`). */
  resume(opts: { newSession?: boolean } = {}): void {
    this.#online = true;
    if (opts.newSession) {
      this.#muc?.reset();
      this.emit("online", { jid: this.#jid, resumed: false });
    } else this.emit("resumed", { jid: this.#jid });
  }

  /** Simulate a new session (e.g. after a reconnect whose resumption failed). */
  reconnect(): void {
    this.#muc?.reset();
    this.emit("offline", { reason: "test reconnect" });
    this.emit("online", { jid: this.#jid, resumed: false });
  }

  /** Resolves at the next `send`. */
  nextSend(): Promise<void> {
    return new Promise((resolve) => {
      const w = () => {
        this.#waiters.delete(w);
        resolve();
      };
      this.#waiters.add(w);
    });
  }

  #later(stanza: Element): void {
    this.#pending++;
    queueMicrotask(() => {
      this.#pending--;
      this.receive(stanza);
    });
  }
}
