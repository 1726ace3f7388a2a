/**
 * `FunctionTokenProvider`: adapts a user function that fetches access tokens (from a vault, a
 * sidecar, another service) to `TokenProvider`, with single-flight calls and caching until
 * shortly before the reported expiry.
 */
import { TypedEmitter } from "../emitter.ts";
import { registerSecret } from "../logger.ts";
import { PermanentAuthError, type TokenProvider, type TokenProviderEvents } from "./types.ts";

/** What the user function returns: a token, or a token with its expiry (epoch ms). */
export type TokenFunctionResult = string | { accessToken: string; expiresAt?: number };

/** The user function; `forceRefresh` is passed through so that it can bypass its own caches. */
export type TokenFunction = (opts: { forceRefresh: boolean }) => Promise<TokenFunctionResult>;

/** Options of `FunctionTokenProvider`. */
export interface FunctionTokenProviderOptions {
  /** Stop serving a cached token this long before its expiry; default 60 s. */
  marginMs?: number;
  now?: () => number;
}

/**
 * Calls `fn` when no cached token is valid; concurrent callers share one call. A plain string
 * result is not cached (every later `getAccessToken` calls `fn` again); `{accessToken, expiresAt}`
 * is cached until `expiresAt - marginMs` or until `forceRefresh`. Errors from `fn` propagate
 * unchanged (throw `PermanentAuthError` to signal that re-authorization is needed).
 */
export class FunctionTokenProvider implements TokenProvider {
  readonly #fn: TokenFunction;
  readonly #events = new TypedEmitter<TokenProviderEvents>();
  readonly #margin: number;
  readonly #now: () => number;
  #cached: { accessToken: string; expiresAt: number } | undefined;
  #inflight: Promise<string> | undefined;

  constructor(fn: TokenFunction, opts: FunctionTokenProviderOptions = {}) {
    this.#fn = fn;
    this.#margin = opts.marginMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Subscribe to `refreshed` / `refresh-failed`. */
  on<K extends keyof TokenProviderEvents & string>(event: K, listener: (p: TokenProviderEvents[K]) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  getAccessToken(opts: { forceRefresh?: boolean } = {}): Promise<string> {
    const force = opts.forceRefresh ?? false;
    if (force) this.#cached = undefined;
    if (!this.#inflight && this.#cached && this.#now() < this.#cached.expiresAt - this.#margin) {
      return Promise.resolve(this.#cached.accessToken);
    }
    this.#inflight ??= this.#call(force).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #call(forceRefresh: boolean): Promise<string> {
    let r: TokenFunctionResult;
    try {
      r = await this.#fn({ forceRefresh });
    } catch (err) {
      const error = err instanceof Error ? err : new Error("token function failed");
      this.#events.emit("refresh-failed", { error, permanent: error instanceof PermanentAuthError });
      throw error;
    }
    const accessToken = typeof r === "string" ? r : r?.accessToken;
    if (typeof accessToken !== "string" || !accessToken) {
      const error = new TypeError("token function returned no access token");
      this.#events.emit("refresh-failed", { error, permanent: false });
      throw error;
    }
    registerSecret(accessToken, { rotating: true });
    const expiresAt = typeof r === "string" ? undefined : r.expiresAt;
    this.#cached = expiresAt !== undefined ? { accessToken, expiresAt } : undefined;
    this.#events.emit("refreshed", { expiresAt });
    return accessToken;
  }

  start(): void {}
  stop(): void {}
}
