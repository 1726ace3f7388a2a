/**
 * Chat state notifications (XEP-0085) while a handler runs: if it takes longer than
 * `composingDelayMs`, the user sees "composing"; messages with a body carry `<active/>`; a
 * handler that showed "composing" and then sent nothing to that chat ends with `<paused/>`
 * (clients then clear the typing indicator). One-to-one chats only by default.
 *
 * `<active/>` is added by a send transformer, so it also marks what other plugins send; a
 * handler counts as having replied when any message with a body went to its chat meanwhile.
 *
 * A standalone chat state carries a XEP-0334 `<no-store/>` hint: offline storage and archives
 * must not keep it (a stale "is typing…" came back from offline storage after a restart).
 */
import { jid, message, NS, xml, type Context, type MiddlewareFn, type Plugin, type SendTransformer } from "@botrun/core";

/** XEP-0334 message processing hints. */
export const NS_HINTS = "urn:xmpp:hints";

/** Options of `chatStates()`. */
export interface ChatStatesOptions {
  /** Wait this long before sending `composing` (default 500 ms). */
  composingDelayMs?: number;
  /** Also in rooms (default false: it is noisy there). */
  inRooms?: boolean;
}

/** Handlers running for one chat: how many, and whether a message went there meanwhile. */
interface Running {
  handlers: number;
  replied: boolean;
}

/** Create the chat-states plugin. Install it before slow handlers. */
export function chatStates(opts: ChatStatesOptions = {}): Plugin {
  const delay = opts.composingDelayMs ?? 500;
  const inRooms = opts.inRooms === true;
  /** Keyed by the chat a handler answers: a bare JID, a room, or `room/nick` for private messages. */
  const running = new Map<string, Running>();
  const state = (to: string, type: "chat" | "groupchat", name: string) =>
    message({ to, type, children: [xml(name, { xmlns: NS.chatStates }), xml("no-store", { xmlns: NS_HINTS })] });

  const transformSend: SendTransformer = (el, next) => {
    const type = el.attrs.type;
    if (el.name === "message" && el.getChild("body") && (type === "chat" || (inRooms && type === "groupchat"))) {
      if (!el.getChild("active", NS.chatStates)) el.append(xml("active", { xmlns: NS.chatStates }));
      const to = String(el.attrs.to ?? "");
      const r = running.get(to) ?? running.get(jid.bare(to));
      if (r) r.replied = true;
    }
    return next(el);
  };

  const middleware: MiddlewareFn<Context> = async (ctx, next) => {
    const eligible = ctx.kind === "message" && ctx.text !== undefined && !ctx.delayed && (ctx.type === "chat" || (inRooms && ctx.type === "groupchat"));
    if (!eligible) return next();
    const type = ctx.type === "groupchat" ? "groupchat" : "chat";
    const to = type === "groupchat" ? ctx.room! : ctx.from || ctx.chat; // where ctx.reply goes
    const key = type === "groupchat" ? ctx.room! : ctx.chat;
    let r = running.get(key);
    if (!r) running.set(key, (r = { handlers: 0, replied: false }));
    r.handlers++;
    r.replied = false;
    const mine = r;
    let composing = false;
    const timer = setTimeout(() => {
      if (mine.replied) return;
      composing = true;
      ctx.sendStanza(state(to, type, "composing")).catch((error: unknown) => ctx.log.debug("chat state failed", { error }));
    }, delay);
    try {
      await next();
    } finally {
      clearTimeout(timer);
      if (--mine.handlers === 0) running.delete(key);
      if (composing && !mine.replied) await ctx.sendStanza(state(to, type, "paused"));
    }
  };
  // XEP-0085 §11: support is advertised in disco#info.
  return { name: "chat-states", features: [NS.chatStates], middleware, transformSend };
}
