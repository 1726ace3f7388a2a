// `botrun auth <bot> --account <jid>`: a consent flow's tokens written into a fleet account's sealed token record (compare-and-set, consent mark cleared), so the worker that owns the account starts it again without a restart.
import { ConfigError, TransientAuthError, type TokenSet, type TokenStore } from "@botrun/core";
import { AccountStore } from "./accounts.ts";
import { closeRedis, connectRedis, redisUrlFrom, type FleetRedis } from "./redis.ts";
import { GRANT_CONSENT } from "./scripts.ts";
import { SECRET_SETTING, SecretBoxError, secretBoxFromEnv, type SecretBox } from "./secret-box.ts";
import { FleetTokenStore } from "./token-store.ts";

/** Where `botrun auth --account` stores the tokens: the `target` of `runAuthCommand`, plus `close()`. */
export interface FleetConsentTarget {
  store: TokenStore;
  accountKey: string;
  /** Shown in "tokens stored in …". */
  where: string;
  /** Quit the Redis connection. Never throws. */
  close(): Promise<void>;
}

/** Options of `openFleetConsent`. */
export interface FleetConsentOptions {
  /** The bot's settings: BOTRUN_FLEET_REDIS, BOTRUN_FLEET_SECRET. */
  env: NodeJS.ProcessEnv;
  bot: string;
  jid: string;
  /** `--redis`, which wins over BOTRUN_FLEET_REDIS. */
  redis?: string;
}

/**
 * A fleet account's token record as the store of a consent flow. `save` seals the tokens, writes
 * them by compare-and-set on the record's version (a record moved meanwhile is re-read: the new
 * consent wins over the dead grant) and, in the same script, sets the account `ready` and removes it
 * from the consent set: every worker reads that set each round, and the owner starts the account.
 */
export class FleetConsentStore implements TokenStore {
  readonly #tokens: FleetTokenStore;

  constructor(
    readonly redis: FleetRedis,
    readonly accounts: AccountStore,
    readonly box: SecretBox,
    readonly jid: string,
  ) {
    this.#tokens = new FleetTokenStore(redis, accounts.keys, box, jid);
  }

  load(): Promise<TokenSet | undefined> {
    return this.#tokens.load();
  }

  async save(_key: string, tokens: TokenSet): Promise<void> {
    const sealed = this.box.seal(JSON.stringify(tokens), `${this.jid}#tok`);
    const { keys } = this.accounts;
    for (let tries = 0; tries < 3; tries++) {
      await this.#tokens.load().catch(() => undefined); // reads the version (a record that no longer opens is overwritten)
      const res = Number(await this.redis.eval(GRANT_CONSENT, 2, keys.account(this.jid), keys.consent, this.#tokens.version, sealed, this.jid));
      if (res > 0) return;
      if (res === -3) throw new ConfigError("--account", `an account of the fleet (${this.jid} was removed meanwhile; import it again)`);
    }
    throw new TransientAuthError(`the token record of ${this.jid} kept changing; run botrun auth again`, "conflict");
  }

  /** Tokens are not deleted through this store: `botrun accounts remove` deletes the account. */
  async delete(): Promise<void> {}
}

/**
 * Check that `jid` is an OAuth account of the bot's fleet and that BOTRUN_FLEET_SECRET opens its
 * credentials (before anyone is sent to a consent page), then return the store for its tokens.
 * Throws ConfigError (exit 2) naming the setting or flag at fault.
 */
export async function openFleetConsent(o: FleetConsentOptions): Promise<FleetConsentTarget> {
  const url = redisUrlFrom(o.env, o.redis);
  const box = secretBoxFromEnv(o.env);
  const jid = o.jid.trim().toLowerCase();
  const redis = connectRedis(url, { name: "botrun-auth", commandTimeoutMs: 5000 });
  let lastError: string | undefined;
  redis.on("error", (e: NodeJS.ErrnoException) => (lastError = e.code ?? e.message));
  const accounts = new AccountStore(redis, box, o.bot);
  try {
    const kind = await redis.hget(accounts.keys.account(jid), "kind").catch((err: Error) => {
      throw redis.status !== "ready" && lastError ? new ConfigError("BOTRUN_FLEET_REDIS", `a reachable Redis (${lastError})`) : err;
    });
    if (kind === null) throw new ConfigError("--account", `an account of ${o.bot}'s fleet (no ${jid}: import it with botrun accounts import ${o.bot} <file>)`);
    if (kind === "password") throw new ConfigError("--account", `an OAuth account (${jid} logs in with a password; import it with a refresh token instead)`);
    await accounts.credentials(jid).catch((err: unknown) => {
      throw err instanceof SecretBoxError ? new ConfigError(SECRET_SETTING, "the secret the accounts were imported with (this one does not open their credentials)") : err;
    });
  } catch (err) {
    await closeRedis(redis);
    throw err;
  }
  return {
    store: new FleetConsentStore(redis, accounts, box, jid),
    accountKey: jid,
    where: `fleet account ${jid} (sealed in Redis; its worker starts it within a round)`,
    close: () => closeRedis(redis),
  };
}
