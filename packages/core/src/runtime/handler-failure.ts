/** How the runtime tells a handler's failure: one log line (overload refusals: one line per interval, with a count), then the bot's error hook, whose own failure is logged. */
import type { Element } from "@xmpp/xml";
import { BotError, type BotErrorHandler } from "../bot.ts";
import type { Context } from "../context.ts";
import { redactString, type Logger } from "../logger.ts";
import type { SendRefusals } from "./send-refusals.ts";

/** Log `error` of the handler of `stanza`, unless it is a refused send `refusals` counts. */
export function logHandlerFailure(error: unknown, stanza: Element, refusals: SendRefusals, log: Logger): void {
  // Overload (outbox/throttle full, stanza too large, stopping): one line per interval with a count.
  if (!refusals.take(error)) log.error("handler failed", { error, stanza: redactString(stanza.toString()).slice(0, 2000) });
}

/** Call the bot's error hook (`bot.catch`) with `error` of `ctx`'s handler; a throw or rejection of the hook is logged. */
export function callErrorHook<C extends Context>(hook: BotErrorHandler<C> | undefined, error: unknown, ctx: C, log: Logger): void {
  if (!hook) return;
  try {
    const r = hook(new BotError(error, ctx));
    if (r instanceof Promise) r.catch((e: unknown) => log.error("error hook failed", { error: e }));
  } catch (e) {
    log.error("error hook failed", { error: e });
  }
}
