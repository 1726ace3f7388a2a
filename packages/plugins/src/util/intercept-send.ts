/**
 * Outbound interception for one context. Core has no send hook, so plugins that shape
 * outgoing stanzas (throttle, receipts, chat states) replace `ctx.bot` by an object whose
 * `send` runs through them; `ctx.reply`, `ctx.send` and `ctx.sendStanza` all use `ctx.bot.send`.
 */
import type { BotApi, Context, Element } from "@botrun/core";

/** Transforms one outgoing stanza; calls `send` (possibly later, possibly with another stanza). */
export type SendInterceptor = (stanza: Element, send: (stanza: Element) => Promise<void>) => Promise<void>;

/** Route every stanza sent through `ctx` (reply/send/sendStanza) through `interceptor`. Stacks. */
export function interceptSend(ctx: Context, interceptor: SendInterceptor): void {
  const inner: BotApi = ctx.bot;
  const innerSend = (el: Element) => inner.send(el);
  const api: BotApi = Object.create(inner, {
    send: { value: (el: Element) => interceptor(el, innerSend), enumerable: true },
  }) as BotApi;
  Object.defineProperty(ctx, "bot", { value: api, writable: true, configurable: true, enumerable: true });
}
