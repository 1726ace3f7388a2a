/** Core imports used by the commands router, in one place. */
import { type Middleware, type MiddlewareFn } from "@botrun/core";

export { compose, jid, NS, splitArgs, type Context, type Middleware, type MiddlewareFn, type Plugin } from "@botrun/core";

/** Turn a middleware (function or object with `middleware()`) into its function. */
export function toFnCompat<C>(mw: Middleware<C>): MiddlewareFn<C> {
  return typeof mw === "function" ? mw : mw.middleware();
}
