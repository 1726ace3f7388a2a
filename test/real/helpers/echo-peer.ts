/**
 * The other side of echo traffic: a raw @xmpp/client peer that sends numbered chat messages to an
 * echo bot (the body is the message id) and counts the echoes by id, so tests can assert "zero
 * lost" and count duplicates. Sends while the peer itself is offline wait for its next session.
 */
import { xml, type Element } from "@botrun/core";
import { startRawClient, type RawClient, type RawClientOptions } from "./raw-client.ts";

/** Counts of a traffic run. */
export interface EchoStats {
  sent: number;
  /** Distinct ids echoed back. */
  echoed: number;
  /** Ids never echoed. */
  lost: string[];
  /** Extra copies received, by id. */
  duplicates: Record<string, number>;
  duplicateCount: number;
  /** Ids whose first echo arrived out of send order (informational). */
  reordered: number;
}

/** Options of `startEchoPeer`. */
export interface EchoPeerOptions extends Omit<RawClientOptions, "resource"> {
  /** Bare JID of the echo bot. */
  bot: string;
  /** Id prefix (keep runs apart). */
  prefix?: string;
}

/** An echo peer. */
export class EchoPeer {
  readonly sentAt = new Map<string, number>();
  readonly counts = new Map<string, number>();
  readonly latencies: number[] = [];
  #order: string[] = [];
  #seq = 0;
  #lastEchoIndex = -1;
  #reordered = 0;
  #waiters = new Set<() => void>();
  #steady: NodeJS.Timeout | undefined;
  #sessions = 0;
  /** Ids not written because the peer was not online (written on its next session, new or resumed). */
  #held = new Set<string>();
  /** Ids the peer re-sent after its own session was lost. */
  resent = 0;

  private constructor(
    readonly raw: RawClient,
    readonly bot: string,
    readonly prefix: string,
  ) {
    raw.xmpp.on("stanza", (el: Element) => this.#onStanza(el));
    raw.xmpp.on("online", () => {
      this.#held.clear(); // covered by the re-send below (every id not echoed yet)
      // A new session (not a resumption): what the old one had in flight may be gone; re-send it.
      if (++this.#sessions > 1) this.resendOutstanding();
    });
    // A resumption keeps what was in flight (XEP-0198); what was held goes out now.
    const sm = (raw.xmpp as unknown as { streamManagement?: { on(e: "resumed", f: () => void): void } }).streamManagement;
    sm?.on("resumed", () => {
      const held = [...this.#held];
      this.#held.clear();
      for (const id of held) this.#send(id);
    });
  }

  /** Log in and return the peer (fixed resource `peer-PREFIX`, so a reconnect does not change its JID). */
  /** The peer used by the echo suites: user `peer` on a test Prosody, talking to `bot@localhost` over direct TLS. */
  static forProsody(prosody: { directTlsPort: number; caFile: string }, prefix: string): Promise<EchoPeer> {
    return EchoPeer.start({
      host: "127.0.0.1",
      directTlsPort: prosody.directTlsPort,
      domain: "localhost",
      username: "peer",
      password: "peer-password",
      caFile: prosody.caFile,
      bot: "bot@localhost",
      prefix,
    });
  }

  static async start(o: EchoPeerOptions): Promise<EchoPeer> {
    const raw = await startRawClient({ ...o, resource: `peer-${o.prefix ?? "m"}` });
    const peer = new EchoPeer(raw, o.bot, o.prefix ?? "m");
    peer.#sessions = 1;
    return peer;
  }

  #onStanza(el: Element): void {
    if (!el.is("message") || el.attrs.type === "error") return;
    const from = String(el.attrs.from ?? "").split("/")[0];
    if (from !== this.bot) return;
    const id = el.getChildText("body");
    if (!id || !this.sentAt.has(id)) return;
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, n);
    if (n === 1) {
      this.latencies.push(performance.now() - this.sentAt.get(id)!);
      const idx = Number(id.slice(this.prefix.length + 1));
      if (idx < this.#lastEchoIndex) this.#reordered++;
      this.#lastEchoIndex = Math.max(this.#lastEchoIndex, idx);
    }
    for (const w of [...this.#waiters]) w();
  }

  #write(id: string): void {
    // Only while online: xmpp.js 0.14's send() refuses only while closing, so a stanza sent while it
    // reconnects goes out before the stream header; Prosody then closes the stream (invalid-namespace,
    // mod_c2s "no-stream") and xmpp.js's reconnect may stall for good (its status bookkeeping).
    if (this.raw.xmpp.status !== "online") return void this.#held.add(id);
    this.#send(id);
  }

  #send(id: string): void {
    this.raw.xmpp
      .send(xml("message", { to: this.bot, type: "chat", id }, xml("body", {}, id)))
      .catch(() => {
        /* offline: resent when the peer's next session starts */
      });
  }

  /** Send one new message; returns its id. */
  send(): string {
    const id = `${this.prefix}-${this.#seq++}`;
    this.sentAt.set(id, performance.now());
    this.#order.push(id);
    this.#write(id);
    return id;
  }

  /** Re-send every id not echoed yet (after the peer's own session was lost). */
  resendOutstanding(): void {
    for (const id of this.#order) {
      if (!this.counts.has(id)) {
        this.resent++;
        this.#write(id);
      }
    }
  }

  /** Send `perSecond` messages a second until `stopSteady()`. */
  startSteady(perSecond: number): void {
    this.stopSteady();
    this.#steady = setInterval(() => this.send(), Math.max(1, Math.round(1000 / perSecond)));
  }

  stopSteady(): void {
    clearInterval(this.#steady);
    this.#steady = undefined;
  }

  /** Resolve once every id sent so far was echoed; reject after `timeoutMs` with the counts. */
  waitAllEchoed(timeoutMs: number): Promise<void> {
    return this.waitFor(() => this.outstanding() === 0, timeoutMs, () => `not all echoed: ${JSON.stringify(this.summary())}`);
  }

  /** Resolve once `cond()` holds (checked after each echo), reject after `timeoutMs`. */
  waitFor(cond: () => boolean, timeoutMs: number, what: () => string = () => "condition"): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        clearTimeout(t);
        this.#waiters.delete(check);
        resolve();
      };
      const t = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms: ${what()}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Ids sent but not echoed. */
  outstanding(): number {
    return this.sentAt.size - this.counts.size;
  }

  stats(): EchoStats {
    const duplicates: Record<string, number> = {};
    let duplicateCount = 0;
    for (const [id, n] of this.counts) {
      if (n > 1) {
        duplicates[id] = n - 1;
        duplicateCount += n - 1;
      }
    }
    return {
      sent: this.sentAt.size,
      echoed: this.counts.size,
      lost: this.#order.filter((id) => !this.counts.has(id)),
      duplicates,
      duplicateCount,
      reordered: this.#reordered,
    };
  }

  /** Short form for messages. */
  summary(): { sent: number; echoed: number; lost: number; duplicates: number; resent: number } {
    const s = this.stats();
    return { sent: s.sent, echoed: s.echoed, lost: s.lost.length, duplicates: s.duplicateCount, resent: this.resent };
  }

  async stop(): Promise<void> {
    this.stopSteady();
    await this.raw.stop();
  }
}
