/**
 * The offline test harness: run a bot definition with no server and no network,
 * push stanzas from any JID, and assert on what it sends. Works with fake timers.
 *
 * ```ts
 * const t = await createHarness(bot);
 * await t.say("!echo hi");
 * expect(t.replies()).toEqual(["hi"]);
 * ```
 */
import type { Element } from "@xmpp/xml";
import type { StanzaError } from "../stanza.ts";
import type { Bot } from "../bot.ts";
import type { Context } from "../context.ts";
import { bare, local, resource } from "../jid.ts";
import { silentLogger, type Logger } from "../logger.ts";
import { simulatedReply } from "../iq/server-sim.ts";
import { BotRuntime, type RuntimeOptions } from "../runtime/runtime.ts";
import { NS, presence as presenceStanza, stanzaId, xml, type PresenceType } from "../stanza.ts";
import { TestTransport, type IqResponder } from "./test-transport.ts";

/** Options of `createHarness`. */
export interface HarnessOptions {
  /** The bot's full JID. Default `bot@botrun.test/test`. */
  jid?: string;
  /** The default sender of `say()`. Default `alice@botrun.test/phone`. */
  user?: string;
  /** Logger; silent by default (pass one to see handler errors). */
  logger?: Logger;
  /** Development-mode checks (unawaited next). Default true. */
  dev?: boolean;
  /** Simulate MUC self-presence and echoes (default true). */
  muc?: boolean;
  /** Answers the iq requests the bot sends (`ctx.bot.request`); default: as a server would. */
  iq?: IqResponder;
  /** Further runtime options (e.g. `versionOs`). */
  runtime?: Omit<RuntimeOptions, "logger" | "dev">;
}

/** Options of `Harness.iq`. */
export interface IqPushOptions {
  /** Sender; default the harness user. */
  from?: string;
  /** Addressee; default the bot's full JID. */
  to?: string;
  id?: string;
}

/** One line of a transcript: who said what (and to whom, for the bot's lines). */
export interface TranscriptLine {
  who: string;
  text: string;
  to?: string;
}

/** Extra attributes for pushed messages. */
export interface PushOptions {
  id?: string;
  /** Mark as delayed (XEP-0203), as replayed history or offline messages are. */
  delayed?: boolean;
  children?: Element[];
}

/** A bot running on an in-memory transport. */
export class Harness<C extends Context = Context> {
  readonly runtime: BotRuntime<C>;
  readonly transport: TestTransport;
  readonly user: string;
  readonly #transcript: TranscriptLine[] = [];
  #cursor = 0;

  constructor(bot: Bot<C>, opts: HarnessOptions = {}) {
    this.transport = new TestTransport({ jid: opts.jid, muc: opts.muc, iq: opts.iq });
    this.runtime = new BotRuntime(bot, this.transport, { ...opts.runtime, logger: opts.logger ?? silentLogger, dev: opts.dev ?? true });
    this.user = opts.user ?? "alice@botrun.test/phone";
    this.runtime.on("sent", (el) => {
      const body = el.name === "message" ? el.getChildText("body") : null;
      if (body !== null) this.#transcript.push({ who: "bot", text: body, to: String(el.attrs.to ?? "") });
    });
  }

  /** Every stanza the bot has sent, oldest first. */
  get sent(): readonly Element[] {
    return this.transport.sent;
  }

  /** Send a one-to-one chat message from the default user; resolves with what the bot sent meanwhile. */
  say(text: string, opts?: PushOptions): Promise<Element[]> {
    return this.message(this.user, text, opts);
  }

  /** A one-to-one chat message from any JID. */
  message(from: string, text: string, opts: PushOptions & { type?: "chat" | "normal" | "headline" } = {}): Promise<Element[]> {
    this.#transcript.push({ who: label(from), text });
    return this.push(msg(from, this.#botJid(), opts.type ?? "chat", text, opts));
  }

  /** A group-chat message in `room` from occupant `nick`. */
  groupchat(room: string, nick: string, text: string, opts: PushOptions = {}): Promise<Element[]> {
    if (!opts.delayed) this.#transcript.push({ who: nick, text });
    return this.push(msg(`${bare(room)}/${nick}`, this.#botJid(), "groupchat", text, opts));
  }

  /** A presence from any JID: `available` (optionally with show/status), `unavailable`, … */
  presence(
    from: string,
    type: PresenceType = "available",
    opts: { show?: "away" | "chat" | "dnd" | "xa"; status?: string; children?: Element[] } = {},
  ): Promise<Element[]> {
    const el = presenceStanza({ type, ...opts });
    el.attrs.from = from;
    el.attrs.to = this.#botJid();
    return this.push(el);
  }

  /** A subscription request (`presence type="subscribe"`) from a bare JID. */
  subscribe(from: string): Promise<Element[]> {
    return this.presence(bare(from), "subscribe");
  }

  /** An error stanza answering something the bot sent. */
  error(from: string, condition = "service-unavailable", kind: "message" | "presence" | "iq" = "message"): Promise<Element[]> {
    return this.push(
      xml(
        kind,
        { from, to: this.#botJid(), type: "error", id: stanzaId() },
        xml("error", { type: "cancel" }, xml(condition, { xmlns: NS.stanzas })),
      ),
    );
  }

  /**
   * Send the bot an iq get/set with `payload` as its child; resolves with the bot's reply (the iq
   * result or error with the same id, to the sender). Throws when the bot sent none, or more than one.
   * `const res = await t.iq("get", xml("query", { xmlns: "jabber:iq:version" }))`
   */
  async iq(type: "get" | "set", payload: Element, opts: IqPushOptions = {}): Promise<Element> {
    const from = opts.from ?? this.user;
    const id = opts.id ?? stanzaId();
    const sent = await this.push(xml("iq", { from, to: opts.to ?? this.#botJid(), type, id }, payload));
    const replies = sent.filter((el) => el.name === "iq" && el.attrs.id === id && el.attrs.to === from && (el.attrs.type === "result" || el.attrs.type === "error"));
    if (replies.length !== 1) throw new Error(`expected one reply to iq ${id}, the bot sent ${replies.length}`);
    return replies[0]!;
  }

  /** Answer an iq request the bot sent (found in `sent` or with `next()`): a payload, `null` (empty result) or an error. */
  respond(request: Element, reply: Element | null | StanzaError): Promise<Element[]> {
    return this.push(simulatedReply(request, reply, this.#botJid()));
  }

  /** Deliver any stanza; resolves when the bot (and any simulated room echo) has finished with it. */
  async push(stanza: Element): Promise<Element[]> {
    const before = this.transport.sent.length;
    this.transport.receive(stanza);
    await this.settle();
    return this.transport.sent.slice(before);
  }

  /** Wait until no handler runs and no simulated echo is pending. */
  async settle(): Promise<void> {
    for (;;) {
      await this.runtime.idle();
      if (this.transport.pending === 0 && this.runtime.inflight === 0) {
        await Promise.resolve();
        if (this.transport.pending === 0 && this.runtime.inflight === 0) return;
      }
      await Promise.resolve();
    }
  }

  /** Bodies of the messages the bot sent, oldest first (optionally only those to `to`). */
  replies(to?: string): string[] {
    return this.transport.sent
      .filter((el) => el.name === "message" && (to === undefined || bare(String(el.attrs.to)) === bare(to)))
      .map((el) => el.getChildText("body"))
      .filter((b): b is string => b !== null);
  }

  /** The last message body the bot sent. */
  lastReply(): string | undefined {
    return this.replies().at(-1);
  }

  /**
   * Wait for the next sent stanza not yet taken by an earlier `next()` that matches `pred`
   * (by default: any message with a body). Resolves at once if one was already sent.
   * Uses no timers, so it works under fake timers; rely on the test timeout for hangs.
   */
  async next(pred: (el: Element) => boolean = (el) => el.name === "message" && el.getChild("body") !== undefined): Promise<Element> {
    for (;;) {
      const sent = this.transport.sent;
      while (this.#cursor < sent.length) {
        const el = sent[this.#cursor++]!;
        if (pred(el)) return el;
      }
      await this.transport.nextSend();
    }
  }

  /** Wait for the next reply text (see `next`). */
  async nextReply(): Promise<string> {
    return (await this.next()).getChildText("body") ?? "";
  }

  /** The conversation so far: inbound message bodies and the bot's replies, in order. */
  transcript(): TranscriptLine[] {
    return this.#transcript.slice();
  }

  /**
   * Assert the whole conversation. Lines are `"who: text"`; the bot is `bot`, people are
   * their JID's local part, room occupants their nick. Throws with both transcripts on mismatch.
   */
  expectTranscript(expected: string[]): void {
    const actual = this.#transcript.map((l) => `${l.who}: ${l.text}`);
    if (actual.length !== expected.length || actual.some((l, i) => l !== expected[i])) {
      const err = new Error(
        `transcript mismatch\n--- expected\n${expected.join("\n")}\n--- actual\n${actual.join("\n")}`,
      ) as Error & { expected: string[]; actual: string[] };
      err.expected = expected;
      err.actual = actual;
      throw err;
    }
  }

  /** Make the bot join `room` as `nick` (as the rooms plugin would), then forget that presence. */
  async joinRoom(room: string, nick = this.runtime.bot.name): Promise<void> {
    await this.runtime.send(presenceStanza({ to: `${bare(room)}/${nick}`, children: [xml("x", { xmlns: NS.muc })] }));
    await this.settle();
    this.transport.sent.pop();
    this.#cursor = Math.min(this.#cursor, this.transport.sent.length);
  }

  /** Forget what was sent and said so far. */
  clear(): void {
    this.transport.sent.length = 0;
    this.#transcript.length = 0;
    this.#cursor = 0;
  }

  /** Simulate a new session (reconnect without resumption): plugins' `online` hooks run again. */
  async reconnect(): Promise<void> {
    this.transport.reconnect();
    await this.settle();
  }

  /** Stop the bot gracefully (plugins' `stop` hooks run). */
  stop(): Promise<void> {
    return this.runtime.stop();
  }

  #botJid(): string {
    return this.transport.jid ?? "bot@botrun.test/test";
  }
}

/** Start a bot on an in-memory transport. Remember `await t.stop()` when the bot has timers. */
export async function createHarness<C extends Context>(bot: Bot<C>, opts: HarnessOptions = {}): Promise<Harness<C>> {
  const h = new Harness(bot, opts);
  await h.runtime.start();
  await h.settle();
  return h;
}

function label(jid: string): string {
  return local(jid) ?? resource(jid) ?? jid;
}

function msg(from: string, to: string, type: string, text: string, opts: PushOptions): Element {
  const children: Element[] = [xml("body", {}, text)];
  if (opts.delayed) children.push(xml("delay", { xmlns: NS.delay, from: bare(from), stamp: new Date(0).toISOString() }));
  if (opts.children) children.push(...opts.children);
  return xml("message", { from, to, type, id: opts.id ?? stanzaId() }, ...children);
}
