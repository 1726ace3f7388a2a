/**
 * Stanza builders and readers for XEP-0444 reactions, XEP-0461 replies (with a XEP-0428
 * fallback quote) and XEP-0308 corrections: used by the `reactions()` plugin, and by tests
 * to assert what a bot sent (`readReactions(t.sent.at(-1)!)`).
 */
import { message, NS, xml, type Context, type Element } from "@botrun/core";

/** Message types of RFC 6121 (as `message()` takes them). */
export type MessageType = NonNullable<Parameters<typeof message>[0]["type"]>;

/** XML namespaces of the features here. */
export const NS_MSG = {
  reactions: "urn:xmpp:reactions:0",
  reply: "urn:xmpp:reply:0",
  fallback: "urn:xmpp:fallback:0",
  hints: "urn:xmpp:hints",
} as const;

/** A message the bot sent, as much as a correction needs: its id, addressee and type. */
export interface SentMessage {
  readonly id: string;
  readonly to: string;
  readonly type: MessageType;
}

/** Where `ctx.reply` goes: the room (groupchat), or the device that wrote (RFC 6121 §5.1, chat). */
export function replyAddress(ctx: Context): { to: string; type: MessageType } {
  return ctx.room ? { to: ctx.room, type: "groupchat" } : { to: ctx.from || ctx.chat, type: "chat" };
}

/** The id others use to refer to `stanza`: in group chat the room's XEP-0359 stanza-id, else the `id` attribute. */
export function referenceId(stanza: Element): string | undefined {
  const from = String(stanza.attrs.from ?? "");
  if (stanza.attrs.type === "groupchat") {
    // XEP-0444 §4 / XEP-0461 §2: in a room, refer to the id the room assigned (XEP-0359 §3.2:
    // trust a stanza-id only when `by` is the room itself). Rooms without stable ids: the id attribute.
    const room = from.split("/")[0];
    const sid = stanza.getChildren("stanza-id", NS.sid).find((el) => el.attrs.by === room && typeof el.attrs.id === "string");
    if (sid) return String(sid.attrs.id);
  }
  const id = stanza.attrs.id;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/** XEP-0444 reactions to message `id` (an empty list withdraws the sender's reactions). */
export function reactionsStanza(to: string, type: MessageType, id: string, emojis: readonly string[]): Element {
  const el = xml("reactions", { xmlns: NS_MSG.reactions, id }, ...emojis.map((e) => xml("reaction", {}, e)));
  return message({ to, type, children: [el, xml("store", { xmlns: NS_MSG.hints })] });
}

/** Lines of `original` prefixed with `> `, as a XEP-0461 §4 fallback quote. */
export function quote(original: string): string {
  return `${original.split("\n").map((l) => `> ${l}`).join("\n")}\n`;
}

/** Options of `replyStanza`. */
export interface ReplyTarget {
  /** Reference id of the message answered (see `referenceId`). */
  id: string;
  /** Its author's JID (an occupant JID in rooms). */
  author?: string;
  /** Its body, quoted as the fallback. */
  body?: string;
}

/**
 * A XEP-0461 reply: the fallback quote prefixes the body and is marked with a XEP-0428 fallback
 * (`start`/`end` count Unicode code points, XEP-0426), so capable clients show only `text`.
 */
export function replyStanza(to: string, type: MessageType, text: string, target: ReplyTarget): Element {
  const children: Element[] = [xml("reply", { xmlns: NS_MSG.reply, id: target.id, ...(target.author ? { to: target.author } : {}) })];
  let body = text;
  if (target.body !== undefined && target.body !== "") {
    const q = quote(target.body);
    body = q + text;
    children.push(xml("fallback", { xmlns: NS_MSG.fallback, for: NS_MSG.reply }, xml("body", { start: "0", end: String([...q].length) })));
  }
  return message({ to, type, body, children });
}

/** A XEP-0308 correction of `sent`: same addressee and type, a new id, `<replace id>` naming the original. */
export function correctionStanza(sent: SentMessage, text: string): Element {
  return message({ to: sent.to, type: sent.type, body: text, children: [xml("replace", { xmlns: NS.correct, id: sent.id })] });
}

/** Reactions carried by a message: the id reacted to and the emojis, or `undefined`. */
export function readReactions(el: Element): { id: string; emojis: string[] } | undefined {
  const r = el.getChild("reactions", NS_MSG.reactions);
  if (!r || typeof r.attrs.id !== "string") return undefined;
  return { id: r.attrs.id, emojis: r.getChildren("reaction").map((c) => c.text()) };
}

/** The XEP-0461 reply of a message: the id answered, its author, and the body without the fallback quote. */
export function readReply(el: Element): { id: string; to: string | undefined; text: string } | undefined {
  const r = el.getChild("reply", NS_MSG.reply);
  if (!r || typeof r.attrs.id !== "string") return undefined;
  const body = el.getChildText("body") ?? "";
  const fb = el.getChildren("fallback", NS_MSG.fallback).find((f) => f.attrs.for === NS_MSG.reply)?.getChild("body");
  const start = Number(fb?.attrs.start ?? 0);
  const end = Number(fb?.attrs.end ?? 0);
  const points = [...body];
  const text = fb && end > start ? [...points.slice(0, start), ...points.slice(end)].join("") : body;
  return { id: r.attrs.id, to: typeof r.attrs.to === "string" ? r.attrs.to : undefined, text };
}

/** The XEP-0308 correction of a message: the id of the message it replaces and the new text. */
export function readCorrection(el: Element): { id: string; text: string } | undefined {
  const r = el.getChild("replace", NS.correct);
  if (!r || typeof r.attrs.id !== "string") return undefined;
  return { id: r.attrs.id, text: el.getChildText("body") ?? "" };
}

/** The `SentMessage` of a message stanza the bot built (it has an id from `message()`). */
export function sentOf(el: Element): SentMessage {
  const id = el.attrs.id;
  if (typeof id !== "string" || id === "") throw new Error("the message has no id, so it cannot be corrected");
  return { id, to: String(el.attrs.to ?? ""), type: (el.attrs.type as MessageType | undefined) ?? "normal" };
}
