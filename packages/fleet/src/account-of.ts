// Which fleet account a stanza came to: `ctx.account` for handlers (a member the fleet declares on each account runtime's context class) and per-account session keys.
import type { Context, ContextExtension } from "@botrun/core";
import { jid } from "@botrun/core";

/** The fleet's member on every context of a fleet worker's bots: type handlers with `Context & AccountFlavor`. */
export interface AccountFlavor {
  /** The bare JID of the account this stanza came to (each account has its own runtime). */
  readonly account: string;
}

/** The bare JID of the account `ctx` belongs to: the bot's own JID while online, else the stanza's `to`. */
export function accountOf(ctx: Pick<Context, "to"> & { bot: { jid: string | undefined } }): string {
  return jid.bare(ctx.bot.jid ?? ctx.to);
}

/**
 * `ctx.account` as a getter on the context class of every runtime the fleet runs
 * (`RuntimeOptions.context`): nothing is computed for stanzas whose handlers never ask.
 */
export const accountContext: ContextExtension<AccountFlavor> = {
  get account(): string {
    return accountOf(this);
  },
};

/** What a fleet runtime's `RuntimeOptions.context` carries (the key names the owner in a clash error). */
export const fleetContext = { "@botrun/fleet": accountContext } as const;

/**
 * A session key per account and chat, for `session({ key: perAccountChat, storage: redisStorage(…) })`
 * from @botrun/plugins. The session plugin's default keys already carry the account in a fleet
 * worker (where contexts have `ctx.account`); this is the same key, for code outside one.
 */
export function perAccountChat(ctx: Pick<Context, "to" | "chat"> & { bot: { jid: string | undefined } }): string | undefined {
  return ctx.chat ? `acct:${accountOf(ctx)}:chat:${ctx.chat}` : undefined;
}
