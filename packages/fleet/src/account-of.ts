// Which fleet account a stanza came to, for handlers and per-account state keys (`ctx.account` without a change to Context).
import { jid, type Context } from "@botrun/core";

/** The bare JID of the account `ctx` belongs to: the bot's own JID while online, else the stanza's `to`. */
export function accountOf(ctx: Pick<Context, "to"> & { bot: { jid: string | undefined } }): string {
  return jid.bare(ctx.bot.jid ?? ctx.to);
}

/**
 * A session key per account and chat, for `session({ key: perAccountChat, storage: redisStorage(…) })`
 * from @botrun/plugins: two accounts talking to the same person keep separate state, and the worker
 * that takes an account over finds its state in Redis.
 */
export function perAccountChat(ctx: Pick<Context, "to" | "chat"> & { bot: { jid: string | undefined } }): string | undefined {
  return ctx.chat ? `acct:${accountOf(ctx)}:chat:${ctx.chat}` : undefined;
}
