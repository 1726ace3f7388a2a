/**
 * A token store in Redis, for a fleet of workers sharing bot accounts: one key per account
 * (`<prefix><account>`), written with a single SET (atomic), read with GET. Together with the
 * refreshing provider's re-read of the store before each refresh, a refresh token rotated by
 * one worker is picked up by the others. ioredis is loaded on first use.
 */
import type { TokenSet, TokenStore } from "./types.ts";
import { AuthConfigError } from "./errors.ts";
import { toTokenSet } from "./token-set.ts";

/** The few Redis commands the store needs (an ioredis client fits). */
export interface RedisLike {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  del(key: string): Promise<unknown>;
  quit(): Promise<unknown>;
  /** Drop the connection at once (ioredis); used when `quit()` does not complete. */
  disconnect?(): void;
}

/** Options of `RedisTokenStore`. */
export interface RedisTokenStoreOptions {
  /** `redis://[user:pass@]host:port/db` or `rediss://…` (used when no `client` is given). */
  url?: string;
  /** An existing client; the store will not close it. */
  client?: RedisLike;
  /** Key prefix; default `botrun:tokens:`. */
  prefix?: string;
}

/** How long `close()` waits for Redis to answer QUIT before dropping the connection. */
const QUIT_TIMEOUT_MS = 1000;

/** Tokens in Redis, one JSON value per account key. */
export class RedisTokenStore implements TokenStore {
  readonly #opts: RedisTokenStoreOptions;
  readonly #prefix: string;
  #client: Promise<RedisLike> | undefined;

  constructor(opts: RedisTokenStoreOptions) {
    if (!opts.client && !opts.url) throw new AuthConfigError("RedisTokenStore needs a url or a client", "BOTRUN_TOKEN_STORE");
    this.#opts = opts;
    this.#prefix = opts.prefix ?? "botrun:tokens:";
  }

  async load(key: string): Promise<TokenSet | undefined> {
    const raw = await (await this.#redis()).get(this.#prefix + key);
    if (raw === null) return undefined;
    try {
      return toTokenSet(JSON.parse(raw));
    } catch (err) {
      // Never echo the value: it holds tokens.
      throw new AuthConfigError(
        `BOTRUN_TOKEN_STORE: the entry for "${key}" in Redis is not a valid token set (${(err as Error).name === "SyntaxError" ? "not JSON" : (err as Error).message}); run \`botrun auth ${key}\``,
        "BOTRUN_TOKEN_STORE",
      );
    }
  }

  async save(key: string, tokens: TokenSet): Promise<void> {
    await (await this.#redis()).set(this.#prefix + key, JSON.stringify(tokens));
  }

  async delete(key: string): Promise<void> {
    await (await this.#redis()).del(this.#prefix + key);
  }

  /**
   * Close the connection this store opened (not a client passed in): QUIT, and if Redis does not
   * answer within `QUIT_TIMEOUT_MS` (down, unreachable), drop the socket. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#client || this.#opts.client) return;
    const client = await this.#client.catch(() => undefined);
    this.#client = Promise.reject(new Error("token store closed")); // no new connection after close
    this.#client.catch(() => undefined);
    if (client) await quitRedis(client, QUIT_TIMEOUT_MS);
  }

  #redis(): Promise<RedisLike> {
    this.#client ??= this.#opts.client
      ? Promise.resolve(this.#opts.client)
      : import("ioredis").then(({ Redis }) => new Redis(this.#opts.url!, { lazyConnect: false, maxRetriesPerRequest: 3 }) as unknown as RedisLike);
    return this.#client;
  }
}

/** QUIT `client`, or drop its socket if Redis does not answer within `ms` (down, unreachable). Never throws. */
export async function quitRedis(client: Pick<RedisLike, "quit" | "disconnect">, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const quit = client.quit().then(
    () => true,
    () => false,
  );
  const done = await Promise.race([quit, new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  if (!done) client.disconnect?.();
}
