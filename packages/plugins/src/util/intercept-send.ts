/**
 * Outbound interception for one context: replaces `ctx.bot` by an object whose `send` runs
 * through an interceptor, so that what one handler sends (`ctx.reply/send/sendStanza`) can be
 * seen or changed — e.g. the commands router's "did a later handler reply?". To shape every
 * stanza the bot sends (plugin sends too), declare a plugin's `transformSend` instead.
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
