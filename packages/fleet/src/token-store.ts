// Tokens across machines: a TokenStore over the account's sealed token record (compare-and-set on a version) and a TokenEndpoint wrapper that makes refreshes single-flight across workers.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { PermanentAuthError, TransientAuthError, type EndpointRequestOptions, type TokenEndpoint, type TokenSet, type TokenStore } from "@botrun/core";
import type { FleetKeys } from "./keys.ts";
import type { FleetRedis } from "./redis.ts";
import { SAVE_TOKENS, UNLOCK } from "./scripts.ts";
import type { SecretBox } from "./secret-box.ts";

/** One account's token record in its Redis hash (fields `tok`, sealed, and `tokv`, its version). */
export class FleetTokenStore implements TokenStore {
  #version = 0;

  constructor(
    readonly redis: FleetRedis,
    readonly keys: FleetKeys,
    readonly box: SecretBox,
    readonly jid: string,
  ) {}

  /** The version of the record last read or written. */
  get version(): number {
    return this.#version;
  }

  async load(): Promise<TokenSet | undefined> {
    const [sealed, v] = await this.redis.hmget(this.keys.account(this.jid), "tok", "tokv");
    this.#version = Number(v ?? 0);
    if (!sealed) return undefined;
    return JSON.parse(this.box.open(sealed, `${this.jid}#tok`)) as TokenSet;
  }

  /** Compare-and-set on the version read last. A record moved by someone else is re-read; the same tokens are written over it, other ones refused. */
  async save(_key: string, tokens: TokenSet): Promise<void> {
    await this.write(tokens, false);
  }

  /** `save`, also stamping the account's last refresh time. */
  async write(tokens: TokenSet, refreshed: boolean): Promise<void> {
    const sealed = this.box.seal(JSON.stringify(tokens), `${this.jid}#tok`);
    for (let tries = 0; tries < 2; tries++) {
      const res = Number(await this.redis.eval(SAVE_TOKENS, 1, this.keys.account(this.jid), this.#version, sealed, refreshed ? String(Date.now()) : ""));
      if (res > 0) {
        this.#version = res;
        return;
      }
      if (res === -3) throw new TransientAuthError(`account ${this.jid} was removed from the fleet`, "account_removed");
      const stored = await this.load();
      if (stored?.refreshToken !== tokens.refreshToken) break;
    }
    throw new TransientAuthError("the token record was changed by another writer; re-reading it", "conflict");
  }

  /** Tokens are never deleted through the provider: `botrun accounts remove` deletes the account. */
  async delete(): Promise<void> {}
}

/** Options of `SingleFlightEndpoint`. */
export interface SingleFlightOptions {
  redis: FleetRedis;
  keys: FleetKeys;
  jid: string;
  store: FleetTokenStore;
  inner: TokenEndpoint;
  /** How long the refresh lock lives (must exceed the request timeout); default 20 s. */
  lockMs?: number;
  now?: () => number;
}

/** An access token still this far from expiry may be adopted from a sibling instead of refreshing. */
const ADOPT_MIN_VALIDITY_MS = 5000;

/**
 * Refreshes one account at a time across all workers: take `rlock:{jid}` (NX PX), re-read the
 * record, adopt what a sibling already rotated (or refresh with the newest stored refresh token),
 * call the endpoint, store the result by compare-and-set *before* unlocking, unlock. A rotated
 * refresh token is thus never sent twice. `invalid_grant` with no newer token stored is rethrown:
 * consent is gone for this account only.
 */
export class SingleFlightEndpoint implements TokenEndpoint {
  readonly #o: SingleFlightOptions;
  readonly #now: () => number;
  /** Refresh-token uses (endpoint calls) and adoptions, for metrics and tests. */
  readonly stats = { calls: 0, adopted: 0 };

  constructor(o: SingleFlightOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  async refresh(refreshToken: string, opts: EndpointRequestOptions = {}): Promise<TokenSet> {
    const { redis, keys, jid, store } = this.#o;
    const lockMs = this.#o.lockMs ?? 20_000;
    const token = randomUUID();
    const lockKey = keys.refreshLock(jid);
    const deadline = this.#now() + lockMs;
    while ((await redis.set(lockKey, token, "PX", lockMs, "NX")) !== "OK") {
      if (opts.signal?.aborted || this.#now() > deadline) throw new TransientAuthError("another worker is refreshing this account", "locked");
      const adopted = this.#adoptable(await store.load(), refreshToken);
      if (adopted) return adopted;
      await sleep(100);
    }
    try {
      const stored = await store.load();
      const adopted = this.#adoptable(stored, refreshToken);
      if (adopted) return adopted;
      const current = stored?.refreshToken ?? refreshToken;
      let got: TokenSet;
      try {
        this.stats.calls++;
        got = await this.#o.inner.refresh(current, opts);
      } catch (err) {
        if (err instanceof PermanentAuthError) {
          const again = await store.load().catch(() => undefined);
          if (again?.refreshToken && again.refreshToken !== current) return this.#adopt(again);
        }
        throw err;
      }
      const next: TokenSet = { ...got, refreshToken: got.refreshToken ?? current };
      await store.write(next, true); // before unlocking: the next holder must see the rotation
      return next;
    } finally {
      await redis.eval(UNLOCK, 1, lockKey, token).catch(() => undefined);
    }
  }

  /** Tokens a sibling stored after rotating `used`, if their access token is still good. */
  #adoptable(stored: TokenSet | undefined, used: string): TokenSet | undefined {
    if (!stored?.refreshToken || stored.refreshToken === used || !stored.accessToken) return undefined;
    if (stored.expiresAt !== undefined && stored.expiresAt < this.#now() + ADOPT_MIN_VALIDITY_MS) return undefined;
    return this.#adopt(stored);
  }

  #adopt(stored: TokenSet): TokenSet {
    this.stats.adopted++;
    return stored;
  }
}
