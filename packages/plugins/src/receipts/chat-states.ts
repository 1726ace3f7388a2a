/**
 * Chat state notifications (XEP-0085) while a handler runs: if it takes longer than
 * `composingDelayMs`, the user sees "composing"; replies carry `<active/>`; a handler that
 * showed "composing" and then sent nothing ends with `<paused/>` (clients then clear the
 * typing indicator). One-to-one chats only by default.
 */
import { message, NS, xml, type Context, type Element, type MiddlewareFn, type Plugin } from "@botrun/core";
import { interceptSend } from "../util/intercept-send.ts";

/** Options of `chatStates()`. */
export interface ChatStatesOptions {
  /** Wait this long before sending `composing` (default 500 ms). */
  composingDelayMs?: number;
  /** Also in rooms (default false: it is noisy there). */
  inRooms?: boolean;
}

/** Create the chat-states plugin. Install it before slow handlers. */
export function chatStates(opts: ChatStatesOptions = {}): Plugin {
  const delay = opts.composingDelayMs ?? 500;
  const state = (to: string, type: "chat" | "groupchat", name: string) =>
    message({ to, type, children: [xml(name, { xmlns: NS.chatStates })] });

  const middleware: MiddlewareFn<Context> = async (ctx, next) => {
    const eligible = ctx.kind === "message" && ctx.text !== undefined && !ctx.delayed && (ctx.type === "chat" || (opts.inRooms === true && ctx.type === "groupchat"));
    if (!eligible) return next();
    const type = ctx.type === "groupchat" ? "groupchat" : "chat";
    const to = type === "groupchat" ? ctx.room! : ctx.chat;
    let composing = false;
    let replied = false;
    interceptSend(ctx, (el: Element, send) => {
      if (el.name === "message" && el.getChild("body") && !el.getChild("active", NS.chatStates)) {
        replied = true;
        el.append(xml("active", { xmlns: NS.chatStates }));
      }
      return send(el);
    });
    const timer = setTimeout(() => {
      if (replied) return;
      composing = true;
      ctx.sendStanza(state(to, type, "composing")).catch((error: unknown) => ctx.log.debug("chat state failed", { error }));
    }, delay);
    try {
      await next();
    } finally {
      clearTimeout(timer);
      if (composing && !replied) await ctx.sendStanza(state(to, type, "paused"));
    }
  };
  return { name: "chat-states", middleware };
}
