/**
 * The reactions plugin: grammY-style context methods for XMPP's message extras. `ctx.react("👍")`
 * (XEP-0444), `ctx.replyQuoting(text)` (XEP-0461 with a XEP-0428 fallback quote),
 * `ctx.replyEditable(text)` and `ctx.edit(sent, text)` (XEP-0308 corrections of the bot's own messages).
 *
 * ```ts
 * const bot = new Bot<Context & ReactionsFlavor>({ name: "x", plugins: [reactions()] });
 * bot.command("slow", async (ctx) => {
 *   const sent = await ctx.replyEditable("working…");
 *   await ctx.edit(sent, "done");
 * });
 * ```
 */
import { message, type Context, type Element, type MiddlewareFn, type Plugin } from "@botrun/core";
import {
  correctionStanza,
  NS_MSG,
  reactionsStanza,
  referenceId,
  replyAddress,
  replyStanza,
  sentOf,
  type SentMessage,
} from "./stanzas.ts";

export {
  correctionStanza,
  NS_MSG,
  quote,
  reactionsStanza,
  readCorrection,
  readReactions,
  readReply,
  referenceId,
  replyAddress,
  replyStanza,
  sentOf,
  type MessageType,
  type ReplyTarget,
  type SentMessage,
} from "./stanzas.ts";

/** Add to your context type: `Context & ReactionsFlavor`. Set by the `reactions()` middleware on chat, groupchat and normal messages. */
export interface ReactionsFlavor {
  /**
   * React to the message being handled with one emoji or several (XEP-0444). A new reaction set
   * replaces the bot's previous one on that message; `[]` withdraws them. Rejects when the message
   * has no id to refer to.
   */
  react(emoji: string | readonly string[]): Promise<void>;
  /** Reply like `ctx.reply`, marked as a reply to this message (XEP-0461) with its body quoted as fallback. */
  replyQuoting(text: string): Promise<SentMessage>;
  /** Reply like `ctx.reply`, resolving with the sent message, for `edit`. */
  replyEditable(text: string): Promise<SentMessage>;
  /**
   * Correct a message the bot sent (XEP-0308): `sent` from `replyEditable`/`replyQuoting`/`edit`,
   * or a stanza built with `message()`. Resolves with the original message again, so corrections
   * chain (each names the original id, XEP-0308 §5).
   */
  edit(sent: SentMessage | Element, text: string): Promise<SentMessage>;
}

/** Create the reactions plugin (it also advertises the features in disco#info). */
export function reactions<C extends Context = Context>(): Plugin<C> {
  const middleware: MiddlewareFn<C> = (ctx, next) => {
    // Not on errors, nor on headlines (RFC 6121 §5.2.2: no replies to them).
    if (ctx.kind === "message" && ctx.type !== "error" && ctx.type !== "headline") Object.assign(ctx, methods(ctx));
    return next();
  };
  return { name: "reactions", features: [NS_MSG.reactions, NS_MSG.reply], middleware };
}

function methods(ctx: Context): ReactionsFlavor {
  const { to, type } = replyAddress(ctx);
  const send = async (el: Element): Promise<SentMessage> => {
    await ctx.sendStanza(el);
    return sentOf(el);
  };
  const target = (): string => {
    const id = referenceId(ctx.stanza);
    if (id === undefined) throw new Error("this message has no id to refer to");
    return id;
  };
  return {
    react: async (emoji) => {
      await ctx.sendStanza(reactionsStanza(to, type, target(), typeof emoji === "string" ? [emoji] : emoji));
    },
    replyQuoting: (text) => send(replyStanza(to, type, text, { id: target(), author: ctx.from || undefined, body: ctx.text })),
    replyEditable: (text) => send(message({ to, type, body: text })),
    edit: (sent, text) => {
      const original = "attrs" in sent ? sentOf(sent) : sent;
      return send(correctionStanza(original, text)).then(() => original);
    },
  };
}
