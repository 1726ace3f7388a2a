/**
 * The account's token set as a `RefreshingTokenProvider` holds it, and its copy in the token store:
 * loading (the environment's seed only fills an empty store), a rotation saved before it is used,
 * tokens another process stored adopted, a dead grant marked, and every token masked in logs.
 */
import { registerSecret } from "../logger.ts";
import type { TokenSet, TokenStore } from "./types.ts";

const ROTATING = { rotating: true } as const;

/** One account's tokens in memory and in the store. */
export class StoredTokens {
  readonly #store: TokenStore;
  readonly #key: string;
  readonly #seed: TokenSet | undefined;
  #tokens: TokenSet = {};
  #unsaved = false;

  /** `seed`: tokens from the environment; they only fill an empty store (a stored token wins after restart). */
  constructor(store: TokenStore, accountKey: string, seed: TokenSet | undefined) {
    this.#store = store;
    this.#key = accountKey;
    this.#seed = seed;
    registerSecret(seed?.refreshToken);
    registerSecret(seed?.accessToken, ROTATING);
  }

  /** The tokens in memory. */
  get tokens(): TokenSet {
    return this.#tokens;
  }

  /** The tokens in memory hold a rotation not yet saved: nothing may be handed out until it is. */
  get unsaved(): boolean {
    return this.#unsaved;
  }

  /**
   * Read the store (or take the seed, saving it). Resolves to the error code a stored refresh token
   * was marked with when the endpoint rejected it earlier (the grant is dead), else undefined.
   */
  async load(): Promise<string | undefined> {
    const stored = await this.#store.load(this.#key);
    const seed = this.#seed;
    const storedDead = stored?.meta?.invalid;
    if (stored?.refreshToken && !(storedDead && seed?.refreshToken && seed.refreshToken !== stored.refreshToken)) {
      this.#adopt(stored);
      return storedDead;
    }
    if (seed?.refreshToken || seed?.accessToken) {
      this.#adopt({ ...seed, meta: { ...seed.meta, source: "env" } });
      if (seed.refreshToken) {
        this.#unsaved = true;
        await this.persistPending();
      }
      return undefined;
    }
    if (stored) this.#adopt(stored);
    return undefined;
  }

  /** Save a rotation not yet saved (a no-op if there is none). */
  async persistPending(): Promise<void> {
    if (!this.#unsaved) return;
    const snapshot = this.#tokens;
    await this.#store.save(this.#key, snapshot);
    if (this.#tokens === snapshot) this.#unsaved = false;
  }

  /** Forget the access token (the server refused it), so the next use refreshes. */
  discardAccessToken(): void {
    this.#tokens = { ...this.#tokens, accessToken: undefined, expiresAt: undefined };
  }

  /** Take a refresh's result (`refreshToken`: the one it was made with, kept unless rotated), unsaved until `persistPending`. */
  rotate(got: TokenSet, refreshToken: string): TokenSet {
    registerSecret(got.accessToken, ROTATING);
    this.#useRefreshToken(got.refreshToken ?? refreshToken);
    const meta: Record<string, string> = { ...this.#tokens.meta, ...got.meta };
    delete meta.invalid;
    delete meta.source;
    const next: TokenSet = { accessToken: got.accessToken, refreshToken: got.refreshToken ?? refreshToken, meta };
    if (got.expiresAt !== undefined) next.expiresAt = got.expiresAt;
    this.#tokens = next;
    this.#unsaved = true;
    return next;
  }

  /** Another process (or `botrun auth`) may have stored newer tokens: take them. True if it did. */
  async adoptNewerStored(): Promise<boolean> {
    let stored: TokenSet | undefined;
    try {
      stored = await this.#store.load(this.#key);
    } catch {
      return false;
    }
    if (!stored?.refreshToken || stored.meta?.invalid || this.#unsaved) return false;
    if (stored.refreshToken === this.#tokens.refreshToken && stored.accessToken === this.#tokens.accessToken) return false;
    if (stored.refreshToken === this.#tokens.refreshToken && !this.#tokens.accessToken) return false; // ours was discarded
    this.#adopt(stored);
    return true;
  }

  /** Mark the stored refresh token as rejected (`code`), so no later start uses it. */
  markInvalid(code: string): Promise<void> {
    const marked: TokenSet = { meta: { ...this.#tokens.meta, invalid: code } };
    if (this.#tokens.refreshToken) marked.refreshToken = this.#tokens.refreshToken;
    return this.#store.save(this.#key, marked);
  }

  /** Close the store (a Redis store's connection would otherwise keep the process alive). */
  async close(): Promise<void> {
    await this.#store.close?.();
  }

  #adopt(tokens: TokenSet): void {
    registerSecret(tokens.accessToken, ROTATING);
    this.#useRefreshToken(tokens.refreshToken);
    this.#tokens = tokens;
  }

  /** The current refresh token is masked for as long as it is current; a rotated-away one joins the bounded set. */
  #useRefreshToken(next: string | undefined): void {
    const old = this.#tokens.refreshToken;
    registerSecret(next);
    if (old && old !== next) registerSecret(old, ROTATING);
  }
}
