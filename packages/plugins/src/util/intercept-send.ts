/**
 * Outbound interception for one context, kept for plugins written against it: the core's
 * `ctx.interceptSend`, which routes what one handler sends (`ctx.reply/send/sendStanza`) through
 * an interceptor, e.g. the commands router's "did a later handler reply?". To shape every stanza
 * the bot sends (plugin sends too), declare a plugin's `transformSend` instead.
 */
import type { Context, SendInterceptor } from "@botrun/core";

export type { SendInterceptor } from "@botrun/core";

/** Route every stanza sent through `ctx` (reply/send/sendStanza) through `interceptor`. Stacks. */
export function interceptSend(ctx: Context, interceptor: SendInterceptor): void {
  ctx.interceptSend(interceptor);
}
