// Tokens across machines: a TokenStore over the account's sealed token record (compare-and-set on a version) (the single flight of refreshes across workers is ./single-flight.ts).
import { createHash } from "node:crypto";
import { TransientAuthError, type TokenSet, type TokenStore } from "@botrun/core";
import type { FleetKeys } from "./keys.ts";
import type { FleetRedis } from "./redis.ts";
import { SAVE_SPENT, SAVE_TOKENS } from "./scripts.ts";
import type { SecretBox } from "./secret-box.ts";

/** A refresh token's fingerprint in the in-flight mark (never the token: a Redis dump must not give it away). */
export function fingerprint(refreshToken: string | undefined): string {
  return refreshToken ? createHash("sha256").update(refreshToken).digest("hex").slice(0, 32) : "";
}

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

  /** `save`, also stamping the account's last refresh time; compare-and-set on `expected` (default: the version read last). */
  async write(tokens: TokenSet, refreshed: boolean, expected = this.#version): Promise<void> {
    const sealed = this.box.seal(JSON.stringify(tokens), `${this.jid}#tok`);
    const fp = fingerprint(tokens.refreshToken);
    for (let tries = 0; tries < 2; tries++) {
      const res = Number(await this.redis.eval(SAVE_TOKENS, 1, this.keys.account(this.jid), tries === 0 ? expected : this.#version, sealed, refreshed ? String(Date.now()) : "", fp));
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

  /**
   * Store what the spend marked `markId` got, while that mark is still ours (not compare-and-set on
   * the version: a sibling's save of the same token may have moved it, and these tokens are the only
   * copy of the rotated refresh token). Clears the mark. A mark no longer ours: `conflict`.
   */
  async writeSpent(tokens: TokenSet, markId: string): Promise<void> {
    const sealed = this.box.seal(JSON.stringify(tokens), `${this.jid}#tok`);
    const res = Number(await this.redis.eval(SAVE_SPENT, 1, this.keys.account(this.jid), markId, sealed, String(Date.now())));
    if (res === -3) throw new TransientAuthError(`account ${this.jid} was removed from the fleet`, "account_removed");
    if (res < 0) throw new TransientAuthError("the token record was changed by another writer; re-reading it", "conflict");
    this.#version = res;
  }

  /** Tokens are never deleted through the provider: `botrun accounts remove` deletes the account. */
  async delete(): Promise<void> {}
}

