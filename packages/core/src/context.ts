/**
 * The context of one inbound stanza: what arrived, from whom, where a reply goes,
 * and the actions a handler can take. Built by the runtime for every transport alike.
 */
import type { Element } from "@xmpp/xml";
import { bare } from "./jid.ts";
import type { RequestOptions } from "./iq/requests.ts";
import type { Logger } from "./logger.ts";
import { message, NS, readStanzaError, type MessageType, type StanzaError } from "./stanza.ts";

/** What the running bot offers to handlers and plugins. */
export interface BotApi {
  /** The bot's name, from its definition. */
  readonly name: string;
  /** The bot's own full JID while online (`undefined` before). */
  readonly jid: string | undefined;
  /** Command prefixes, e.g. `["!"]`. */
  readonly commandPrefixes: readonly string[];
  /** The transport's kind: `xmpp`, `console`, `test`. */
  readonly transport: string;
  /** Queue a stanza for delivery. */
  send(stanza: Element): Promise<void>;
  /**
   * Send an iq get/set and wait for its reply: resolves with the `type="result"` iq, rejects with
   * a `StanzaError` for `type="error"`, an `IqTimeoutError` after `timeoutMs` (default 30 s), or an
   * `IqRequestError` (not an iq get/set, too many pending, the bot stopped). An id is assigned when
   * the iq has none. Works on every transport.
   * `const res = await ctx.bot.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })))`
   */
  request(iq: Element, opts?: RequestOptions): Promise<Element>;
  /** The bot's logger. */
  readonly log: Logger;
}

/** Kinds of stanza. */
export type StanzaKind = "message" | "presence" | "iq";

/** Presence `<show/>` values, plus `online` when absent. */
export type Show = "online" | "away" | "chat" | "dnd" | "xa";

/** Options of `reply` and `send`. */
export interface SendOptions {
  /** Message type; defaults to `groupchat` for rooms and `chat` otherwise. */
  type?: MessageType;
  /** Extra child elements. */
  children?: Element[];
}

/** Options of the `Context` constructor, set by the runtime. */
export interface ContextOptions {
  /** The stanza comes from an archive (`ctx.caughtUp`). */
  caughtUp?: boolean;
  /**
   * True for the bare JID of a room the bot is in. A `chat` or `normal` message from one of its
   * occupants (`room@service/nick`) is a private message (XEP-0045 §7.5): `chat` is the
   * occupant's full JID, also when the service adds no `<x xmlns='…muc#user'/>`.
   */
  inRoom?: (room: string) => boolean;
}

/**
 * What builds a bot's contexts: `Context` itself or a subclass with the bot's own fields, given as
 * `new Bot({ name, ContextConstructor: MyContext })` (as grammY's `ContextConstructor`). The
 * runtime derives the bot's context class from it once, adding the members plugins declare
 * (`Plugin.context`), and constructs every context with it: fields are typed and set once.
 */
export type ContextConstructor<C extends Context = Context> = new (stanza: Element, bot: BotApi, log?: Logger, opts?: ContextOptions) => C;

/**
 * Routes one outgoing stanza of a context: call `send` to pass it on (possibly changed, possibly
 * later), or do not. See `Context.interceptSend`.
 */
export type SendInterceptor = (stanza: Element, send: (stanza: Element) => Promise<void>) => Promise<void>;

/**
 * The context handed to every middleware. A bot adds fields with its own subclass
 * (`ContextConstructor`), a plugin with members on the bot's context class (`Plugin.context`);
 * type them with an intersection (`Context & ReactionsFlavor`). Readonly fields are final.
 */
export class Context {
  /** The raw stanza. */
  readonly stanza: Element;
  readonly kind: StanzaKind;
  /**
   * The stanza type with RFC defaults filled in: `normal` for a message without type,
   * `available` for a presence without type.
   */
  readonly type: string;
  /** Sender's full JID (for a room message: `room@service/nick`). */
  readonly from: string;
  /** Recipient as addressed. */
  readonly to: string;
  /** Where a reply goes: the sender's bare JID, the room's bare JID, or a room occupant's full JID for private messages. */
  readonly chat: string;
  /** The message body, if any. */
  readonly text: string | undefined;
  /** The room's bare JID for group-chat stanzas. */
  readonly room: string | undefined;
  /** The sender's nickname in a room. */
  readonly nick: string | undefined;
  /** True when the stanza carries a XEP-0203 delay (replayed history, offline storage). */
  readonly delayed: boolean;
  /**
   * True when a plugin handed this stanza to the pipeline from an archive (room catch-up, XEP-0313):
   * it was missed while the bot was away and is handled now, late. False for live stanzas.
   */
  readonly caughtUp: boolean;
  /** The stanza error of an error stanza. */
  readonly error: StanzaError | undefined;
  /** An iq's child element (the query of a get/set, the payload of a result), if any. */
  readonly payload: Element | undefined;
  /** For a XEP-0308 correction: the id of the message it replaces. */
  readonly correction: string | undefined;
  /** Presence show value (`online` when absent) for presence stanzas. */
  readonly show: Show | undefined;
  /** Presence status text. */
  readonly status: string | undefined;
  /** The running bot. */
  readonly bot: BotApi;
  /** Logger with the stanza's sender and id attached. */
  readonly log: Logger;
  /** Set by `hears`: the regular-expression match or the matched string. */
  match: RegExpMatchArray | string | undefined = undefined;
  /** Set by `command`: the command name without prefix, lower-cased. */
  command: string | undefined = undefined;
  /** Set by `command`: the parsed arguments (quotes respected). */
  args: string[] = [];
  /** Set by `command`: the raw text after the command name. */
  argsText = "";
  /** Free per-stanza scratch space for middlewares. */
  readonly locals: Record<string, unknown> = {};

  constructor(stanza: Element, bot: BotApi, log?: Logger, opts: ContextOptions = {}) {
    this.stanza = stanza;
    this.caughtUp = opts.caughtUp === true;
    this.bot = bot;
    const name = stanza.name;
    this.kind = name === "presence" ? "presence" : name === "iq" ? "iq" : "message";
    const attrs = stanza.attrs as Record<string, string | undefined>;
    this.type = attrs.type ?? (this.kind === "message" ? "normal" : this.kind === "presence" ? "available" : "get");
    this.from = attrs.from ?? "";
    this.to = attrs.to ?? bot.jid ?? "";
    // One pass over the children instead of a getChild() scan per question.
    let body: string | undefined;
    let mucUser = false;
    let delayed = false;
    let show: string | undefined;
    let status: string | undefined;
    let payload: Element | undefined;
    let correction: string | undefined;
    for (const child of stanza.children) {
      if (typeof child === "string") continue;
      payload ??= child;
      const n = child.name;
      if (n === "body") body ??= child.text();
      else if (n === "replace") correction ??= child.attrs.xmlns === NS.correct ? optString(child.attrs.id) : undefined;
      else if (n === "x") mucUser ||= child.attrs.xmlns === NS.mucUser;
      else if (n === "delay") delayed ||= child.attrs.xmlns === NS.delay;
      else if (n === "show") show ??= child.text();
      else if (n === "status") status ??= child.text();
    }
    this.text = this.kind === "message" ? body : undefined;
    this.payload = this.kind === "iq" ? payload : undefined;
    this.correction = this.kind === "message" ? correction : undefined;
    const isRoom = this.type === "groupchat" || (this.kind === "presence" && mucUser);
    const slash = this.from.indexOf("/");
    if (isRoom) {
      this.room = bare(this.from);
      this.nick = slash === -1 ? undefined : this.from.slice(slash + 1);
    } else {
      this.room = undefined;
      this.nick = undefined;
    }
    // XEP-0045 §7.5: a private message from an occupant, marked by the service or from a room we are in.
    const mucPrivate =
      (this.type === "chat" && mucUser) ||
      (this.kind === "message" && (this.type === "chat" || this.type === "normal") && slash !== -1 && opts.inRoom?.(this.from.slice(0, slash)) === true);
    this.chat = this.room ?? (mucPrivate ? this.from : bare(this.from));
    this.delayed = delayed;
    this.error = this.type === "error" ? readStanzaError(stanza) : undefined;
    if (this.kind === "presence") {
      this.show = (show as Show | undefined) ?? "online";
      this.status = status;
    } else {
      this.show = undefined;
      this.status = undefined;
    }
    this.log = log ?? bot.log;
  }

  /** True for a message in a room. */
  get isGroupchat(): boolean {
    return this.type === "groupchat";
  }

  /**
   * Reply where the stanza came from: to the room for group chat; otherwise to the sender's
   * full JID, i.e. the device that wrote (RFC 6121 §5.1), falling back to `chat`. Sends nothing
   * (logged at debug) when the message is a `headline` or an `error`.
   */
  reply(text: string, opts: SendOptions = {}): Promise<void> {
    // RFC 6121 §5.2.2: a client SHOULD NOT reply to a headline; never answer an error (no loops).
    if (this.kind === "message" && (this.type === "headline" || this.type === "error")) {
      this.log.debug("no reply to a message of this type", { type: this.type });
      return Promise.resolve();
    }
    const type = opts.type ?? (this.room && this.kind === "message" ? "groupchat" : "chat");
    const to = type === "groupchat" ? (this.room ?? this.chat) : this.kind === "message" && this.from ? this.from : this.chat;
    return this.sendStanza(message({ to, type, body: text, children: opts.children }));
  }

  /** Send a text message to any JID (a bare JID for a person, a room JID with `type: "groupchat"`). */
  send(to: string, text: string, opts: SendOptions = {}): Promise<void> {
    return this.sendStanza(message({ to, type: opts.type ?? "chat", body: text, children: opts.children }));
  }

  /** Send any stanza. */
  sendStanza(stanza: Element): Promise<void> {
    // An own property only: a context derived with Object.create(ctx, …) (the ad-hoc plugin's) sends
    // through its own `bot` and interceptors, not through those of the context it derives from.
    const send = Object.hasOwn(this, SEND) ? (this as Intercepted)[SEND] : undefined;
    return send ? send(stanza) : this.bot.send(stanza);
  }

  /**
   * Route what this context sends (`reply`, `send`, `sendStanza`, and plugins' context methods,
   * which send through them) through `interceptor`, e.g. to see whether a later handler replied.
   * Interceptors stack, the latest outermost. To shape every stanza the bot sends, declare a
   * plugin's `transformSend` instead.
   */
  interceptSend(interceptor: SendInterceptor): void {
    const self = this as Intercepted;
    const own = Object.hasOwn(this, SEND) ? self[SEND] : undefined;
    const inner = own ?? ((el: Element) => this.bot.send(el));
    Object.defineProperty(this, SEND, { value: (el: Element) => interceptor(el, inner), configurable: true, writable: true });
  }
}

/** Where a context's `sendStanza` goes once `interceptSend` was called on it (not enumerable, not a field). */
const SEND = Symbol("botrun.send");
type Intercepted = Context & { [SEND]?: (stanza: Element) => Promise<void> };

function optString(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
