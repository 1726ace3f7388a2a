// Which fleet account a stanza came to: `ctx.account` for handlers (a getter the fleet adds to core's Context, typed by module augmentation) and per-account session keys.
import { Context, jid } from "@botrun/core";

declare module "@botrun/core" {
  interface Context {
    /**
     * The bare JID of the account this stanza came to (in a fleet, each account has its own
     * runtime; outside one, the bot's own JID). Defined once `@botrun/fleet` is loaded, as it is
     * in every `botrun fleet` worker; for the type, `import type {} from "@botrun/fleet"`.
     */
    readonly account: string;
  }
}

/** The bare JID of the account `ctx` belongs to: the bot's own JID while online, else the stanza's `to`. */
export function accountOf(ctx: Pick<Context, "to"> & { bot: { jid: string | undefined } }): string {
  return jid.bare(ctx.bot.jid ?? ctx.to);
}

// A getter, not a field: nothing is computed for stanzas whose handlers never ask.
if (!Object.getOwnPropertyDescriptor(Context.prototype, "account")) {
  Object.defineProperty(Context.prototype, "account", {
    configurable: true,
    get(this: Context): string {
      return accountOf(this);
    },
  });
}

/**
 * A session key per account and chat, for `session({ key: perAccountChat, storage: redisStorage(…) })`
 * from @botrun/plugins: two accounts talking to the same person keep separate state, and the worker
 * that takes an account over finds its state in Redis.
 */
export function perAccountChat(ctx: Pick<Context, "to" | "chat"> & { bot: { jid: string | undefined } }): string | undefined {
  return ctx.chat ? `acct:${accountOf(ctx)}:chat:${ctx.chat}` : undefined;
}
