/** `MemoryTokenStore`: the in-process token store (`BOTRUN_TOKEN_STORE=memory:`, tests, one-off runs). */
import { cloneTokenSet } from "./token-set.ts";
import type { TokenSet, TokenStore } from "./types.ts";

/** Ephemeral in-process store (tests, one-off runs). Values are copied in and out. */
export class MemoryTokenStore implements TokenStore {
  readonly #map = new Map<string, TokenSet>();
  async load(key: string): Promise<TokenSet | undefined> {
    const t = this.#map.get(key);
    return t && cloneTokenSet(t);
  }
  async save(key: string, tokens: TokenSet): Promise<void> {
    this.#map.set(key, cloneTokenSet(tokens));
  }
  async delete(key: string): Promise<void> {
    this.#map.delete(key);
  }
}
