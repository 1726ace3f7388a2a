/**
 * `RefreshingTokenProvider`: serves access tokens from a token store, refreshing them through a
 * `TokenEndpoint` ahead of expiry. Single-flight refreshes, rotated refresh tokens persisted before
 * the new access token is used, transient failures retried with capped full-jitter backoff while a
 * still-valid token keeps serving, a permanent-failure latch (no endpoint calls ever after), and
 * implausible token lifetimes clamped so that refreshes are never closer than `MIN_REFRESH_INTERVAL_MS`.
 */
import { TypedEmitter } from "../emitter.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { settlesWithin } from "../xmpp/async-util.ts";
import { AuthConfigError, TransientAuthError } from "./errors.ts";
import { asTransient, isDeadGrant, permanentFailureMessage, retryDelay } from "./refresh-failures.ts";
import { StoredTokens } from "./stored-tokens.ts";
import { clampLifetime, isFresh, MIN_REFRESH_INTERVAL_MS, MIN_TOKEN_LIFETIME_MS, refreshMargin, unexpiredToken } from "./token-timing.ts";
import { PermanentAuthError, type TokenEndpoint, type TokenProvider, type TokenProviderEvents, type TokenSet, type TokenStore } from "./types.ts";

/** Options of `RefreshingTokenProvider`. */
export interface RefreshingTokenProviderOptions {
  endpoint: TokenEndpoint;
  store: TokenStore;
  /** Store key of this account (by convention the bot's name). */
  accountKey: string;
  /** Used in the re-auth hint (`botrun auth <botName>`); default `accountKey`. */
  botName?: string;
  /** Tokens from the environment. They only seed an empty store: a stored token wins after restart. */
  seed?: TokenSet;
  /** Refresh this long before expiry. Default: min(5 min, 10% of the token's lifetime). */
  marginMs?: number;
  /** Clock (epoch ms); inject for tests. Timers use the global `setTimeout`, so fake timers drive them. */
  now?: () => number;
  /** Timeout of one token-endpoint request; default 15 s. */
  requestTimeoutMs?: number;
  /** Backoff of transient failures: delay = random() × min(maxMs, initialMs × 2^(n-1)). Defaults 1 s / 5 min. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Randomness of the full jitter; inject for tests. */
  random?: () => number;
  logger?: Logger;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long `close()` waits for an in-flight refresh to be saved. */
const CLOSE_WAIT_MS = 2000;

/** A `TokenProvider` over a refresh token, a token endpoint and a store. */
export class RefreshingTokenProvider implements TokenProvider {
  readonly #o: RefreshingTokenProviderOptions;
  readonly #events = new TypedEmitter<TokenProviderEvents>();
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #bot: string;
  readonly #held: StoredTokens;
  #loading: Promise<void> | undefined;
  /** Permanent failure or a fatal configuration error (a redirecting endpoint): no endpoint calls ever after. */
  #latched: PermanentAuthError | AuthConfigError | undefined;
  /** When the last successful refresh finished (epoch ms). */
  #refreshedAt = Number.NEGATIVE_INFINITY;
  #clampLogged = false;
  #inflight: Promise<Error | undefined> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #started = false;
  #stopped = false;
  #failures = 0;
  #retryAt = 0;
  #lastError: Error | undefined;

  constructor(opts: RefreshingTokenProviderOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
    this.#log = (opts.logger ?? silentLogger).child({ component: "auth", account: opts.accountKey });
    this.#bot = opts.botName ?? opts.accountKey;
    this.#held = new StoredTokens(opts.store, opts.accountKey, opts.seed);
  }

  /** Subscribe to `refreshed` / `refresh-failed`. */
  on<K extends keyof TokenProviderEvents & string>(event: K, listener: (p: TokenProviderEvents[K]) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  /** Remove a listener added with `on`. */
  off<K extends keyof TokenProviderEvents & string>(event: K, listener: (p: TokenProviderEvents[K]) => void): this {
    this.#events.off(event, listener);
    return this;
  }

  /** When the current access token expires (epoch ms), if known. */
  get expiresAt(): number | undefined {
    return this.#held.tokens.expiresAt;
  }

  async getAccessToken(opts: { forceRefresh?: boolean } = {}): Promise<string> {
    if (this.#latched) throw this.#latched;
    await this.#load();
    if (this.#latched) throw this.#latched;
    await this.#held.persistPending();
    if (opts.forceRefresh && this.#held.tokens.accessToken) {
      this.#log.info("access token discarded; refreshing");
      this.#held.discardAccessToken();
    }
    const now = this.#now();
    const usable = this.#usable(now);
    if (usable) {
      if (!this.#fresh(now) && !this.#stopped && !this.#inflight && now >= this.#retryAt && now >= this.#refreshedAt + MIN_REFRESH_INTERVAL_MS) {
        void this.#attempt();
      }
      return usable;
    }
    if (this.#stopped) throw new Error("token provider stopped: no access token available");
    let err: Error | undefined;
    if (this.#inflight) err = await this.#inflight;
    else if (now < this.#retryAt && this.#lastError) err = this.#lastError;
    else err = await this.#attempt();
    if (this.#latched) throw this.#latched;
    if (err) throw err;
    const token = this.#held.tokens.accessToken;
    if (!token || this.#held.unsaved) throw this.#lastError ?? new TransientAuthError("no access token available", "no_token");
    return token;
  }

  /** Load the stored tokens now; only a configuration error (unsafe or corrupt store) rejects. */
  async preflight(): Promise<void> {
    try {
      await this.#load();
    } catch (err) {
      if (err instanceof AuthConfigError) throw err;
    }
  }

  /** Start refreshing in the background ahead of expiry (timers are unref'd). */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#load().then(
      () => this.#schedule(),
      (err: unknown) => this.#log.error("cannot load stored tokens", { error: err }),
    );
  }

  /** Stop timers; no further calls to the token endpoint. An in-flight request still completes and is saved. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * `stop()`, let an in-flight refresh finish and be saved (at most `CLOSE_WAIT_MS`), then close
   * the store (a Redis store's connection would otherwise keep the process alive).
   */
  async close(): Promise<void> {
    this.stop();
    if (this.#inflight) await settlesWithin(this.#inflight, CLOSE_WAIT_MS);
    await this.#held.close();
  }

  #load(): Promise<void> {
    this.#loading ??= this.#held.load().then(
      (rejectedEarlier) => {
        if (rejectedEarlier) this.#latch(new PermanentAuthError("stored refresh token was rejected earlier", rejectedEarlier), false);
      },
      (err: unknown) => {
        this.#loading = undefined; // retry on the next call
        throw err;
      },
    );
    return this.#loading;
  }

  #margin(): number {
    return refreshMargin(this.#held.tokens, this.#o.marginMs);
  }

  /** The access token if it can still be handed out (saved, and not about to expire). */
  #usable(now: number): string | undefined {
    return this.#held.unsaved ? undefined : unexpiredToken(this.#held.tokens, now, this.#margin());
  }

  /** True while no refresh is due yet. */
  #fresh(now: number): boolean {
    return isFresh(this.#held.tokens, now, this.#margin());
  }

  /** One single-flight refresh attempt; resolves to the error (if any), never rejects. */
  #attempt(): Promise<Error | undefined> {
    this.#inflight ??= this.#doAttempt().finally(() => {
      this.#inflight = undefined;
      this.#schedule();
    });
    return this.#inflight;
  }

  async #doAttempt(): Promise<Error | undefined> {
    if (this.#latched) return this.#latched;
    if (this.#stopped) return new Error("token provider stopped");
    try {
      await this.#held.persistPending();
    } catch (err) {
      return this.#transient(err);
    }
    if (await this.#held.adoptNewerStored()) this.#log.info("adopting tokens stored by another process");
    if (this.#usable(this.#now()) && this.#fresh(this.#now())) return undefined;
    const refreshToken = this.#held.tokens.refreshToken;
    if (!refreshToken) {
      const err = new AuthConfigError(
        `no OAuth refresh token for ${this.#bot}: run \`botrun auth ${this.#bot}\` or set OAUTH_REFRESH_TOKEN`,
        "OAUTH_REFRESH_TOKEN",
      );
      this.#events.emit("refresh-failed", { error: err, permanent: true });
      return err;
    }
    const timeout = this.#o.requestTimeoutMs ?? 15_000;
    let got: TokenSet;
    try {
      this.#log.debug("refreshing access token");
      got = await this.#o.endpoint.refresh(refreshToken, { signal: AbortSignal.timeout(timeout) });
    } catch (err) {
      if (err instanceof PermanentAuthError) return this.#latch(err, true);
      if (err instanceof AuthConfigError) return this.#fatalConfig(err);
      return this.#transient(err);
    }
    if (!got.accessToken) return this.#transient(new TransientAuthError("token endpoint returned no access token", "invalid_response"));
    // Rotation first hits the disk, then the new access token may be used.
    const next = this.#held.rotate(this.#clampLifetime(got), refreshToken);
    try {
      await this.#held.persistPending();
    } catch (err) {
      this.#log.error("could not save the refreshed tokens; will retry before using them", { error: err });
      return this.#transient(err);
    }
    this.#failures = 0;
    this.#retryAt = 0;
    this.#lastError = undefined;
    this.#refreshedAt = this.#now();
    this.#log.info("access token refreshed", { expiresAt: next.expiresAt, rotated: got.refreshToken !== undefined });
    this.#events.emit("refreshed", { expiresAt: next.expiresAt });
    return undefined;
  }

  /**
   * Raise a lifetime below `MIN_TOKEN_LIFETIME_MS` to it (one warning, then debug lines). The
   * background refresh is paced by `MIN_REFRESH_INTERVAL_MS` anyway; this keeps the token usable.
   */
  #clampLifetime(got: TokenSet): TokenSet {
    const clamped = clampLifetime(got, this.#now());
    if (!clamped) return got;
    const fields = { expiresInS: clamped.lifetimeMs / 1000, usedS: MIN_TOKEN_LIFETIME_MS / 1000 };
    if (this.#clampLogged) this.#log.debug("implausible token lifetime clamped", fields);
    else this.#log.warn("token endpoint gave an implausible expires_in; clamped (later ones logged at debug)", fields);
    this.#clampLogged = true;
    return clamped.tokens;
  }

  #transient(err: unknown): Error {
    const e = asTransient(err, [this.#held.tokens.refreshToken, this.#held.tokens.accessToken]);
    this.#failures++;
    const delay = retryDelay(this.#failures, e, this.#o.backoff, this.#o.random);
    this.#retryAt = this.#now() + delay;
    this.#lastError = e;
    this.#log.warn("token refresh failed; will retry", { error: e.message, code: e.code, attempt: this.#failures, retryInMs: delay });
    this.#events.emit("refresh-failed", { error: e, permanent: false });
    return e;
  }

  /** Permanent failure: remember it forever, mark a dead grant in the store, and tell listeners. */
  #latch(cause: PermanentAuthError, fromEndpoint: boolean): PermanentAuthError {
    const code = cause.code;
    const message = permanentFailureMessage(code, this.#bot);
    const err = new PermanentAuthError(message, code);
    this.#latched = err;
    this.stop();
    this.#log.error(message, { detail: cause.message });
    if (fromEndpoint && isDeadGrant(code)) {
      this.#held.markInvalid(code).catch((e: unknown) => this.#log.warn("could not mark the stored token invalid", { error: e }));
    }
    this.#events.emit("refresh-failed", { error: err, permanent: true });
    return err;
  }

  /** A configuration error from the endpoint (it redirects): fatal, like a permanent failure, but exit 2. */
  #fatalConfig(err: AuthConfigError): AuthConfigError {
    this.#latched = err;
    this.stop();
    this.#log.error(err.message);
    this.#events.emit("refresh-failed", { error: err, permanent: true });
    return err;
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#started || this.#stopped || this.#latched || this.#inflight) return;
    const now = this.#now();
    let at: number;
    if (this.#failures > 0) at = this.#retryAt;
    else if (this.#held.unsaved || !this.#held.tokens.accessToken) at = now;
    else if (this.#held.tokens.expiresAt === undefined) return;
    else at = Math.max(this.#held.tokens.expiresAt - this.#margin(), this.#refreshedAt + MIN_REFRESH_INTERVAL_MS);
    if (!this.#held.tokens.refreshToken && !this.#held.unsaved) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - now));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#attempt();
    }, delay);
    this.#timer.unref?.();
  }
}
