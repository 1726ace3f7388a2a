/**
 * `RefreshingTokenProvider`: serves access tokens from a token store, refreshing them through a
 * `TokenEndpoint` ahead of expiry. Single-flight refreshes, rotated refresh tokens persisted before
 * the new access token is used, transient failures retried with capped full-jitter backoff while a
 * still-valid token keeps serving, a permanent-failure latch (no endpoint calls ever after), and
 * implausible token lifetimes clamped so that refreshes are never closer than `MIN_REFRESH_INTERVAL_MS`.
 */
import { TypedEmitter } from "../emitter.ts";
import { type Logger, registerSecret, silentLogger } from "../logger.ts";
import { backoffDelay } from "../xmpp/backoff.ts";
import { AuthConfigError, TransientAuthError } from "./errors.ts";
import { scrub } from "./http.ts";
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
const ROTATING = { rotating: true } as const;
/** Longest Retry-After honoured. */
const MAX_RETRY_AFTER_MS = 3600_000;
/** How long `close()` waits for an in-flight refresh to be saved. */
const CLOSE_WAIT_MS = 2000;
/** Scheduled refreshes are at least this far apart (a hostile `expires_in: 0.001` must not spin). */
export const MIN_REFRESH_INTERVAL_MS = 30_000;
/** Token lifetimes below this (`expires_in` 0, negative, 0.001) are raised to it, with one log line. */
export const MIN_TOKEN_LIFETIME_MS = 1000;
const DEFAULT_MARGIN_MS = 5 * 60_000;
/** Error codes meaning the grant itself is dead (re-consent needed), as opposed to a bad client. */
const DEAD_GRANT = /invalid_grant|expired|revoked/i;

/** A `TokenProvider` over a refresh token, a token endpoint and a store. */
export class RefreshingTokenProvider implements TokenProvider {
  readonly #o: RefreshingTokenProviderOptions;
  readonly #events = new TypedEmitter<TokenProviderEvents>();
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #bot: string;
  #loading: Promise<void> | undefined;
  #tokens: TokenSet = {};
  /** The in-memory tokens hold a rotation not yet saved: nothing may be handed out until it is. */
  #unsaved = false;
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
    registerSecret(opts.seed?.refreshToken);
    registerSecret(opts.seed?.accessToken, ROTATING);
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
    return this.#tokens.expiresAt;
  }

  async getAccessToken(opts: { forceRefresh?: boolean } = {}): Promise<string> {
    if (this.#latched) throw this.#latched;
    await this.#load();
    if (this.#latched) throw this.#latched;
    await this.#persistPending();
    if (opts.forceRefresh && this.#tokens.accessToken) {
      this.#log.info("access token discarded; refreshing");
      this.#tokens = { ...this.#tokens, accessToken: undefined, expiresAt: undefined };
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
    const token = this.#tokens.accessToken;
    if (!token || this.#unsaved) throw this.#lastError ?? new TransientAuthError("no access token available", "no_token");
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
    const inflight = this.#inflight;
    if (inflight) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([inflight, new Promise<void>((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
    }
    await this.#o.store.close?.();
  }

  #load(): Promise<void> {
    this.#loading ??= this.#doLoad().catch((err: unknown) => {
      this.#loading = undefined; // retry on the next call
      throw err;
    });
    return this.#loading;
  }

  async #doLoad(): Promise<void> {
    const stored = await this.#o.store.load(this.#o.accountKey);
    const seed = this.#o.seed;
    const storedDead = stored?.meta?.invalid;
    if (stored?.refreshToken && !(storedDead && seed?.refreshToken && seed.refreshToken !== stored.refreshToken)) {
      this.#adopt(stored);
      if (storedDead) this.#latch(new PermanentAuthError("stored refresh token was rejected earlier", storedDead), false);
      return;
    }
    if (seed?.refreshToken || seed?.accessToken) {
      this.#adopt({ ...seed, meta: { ...seed.meta, source: "env" } });
      if (seed.refreshToken) {
        this.#unsaved = true;
        await this.#persistPending();
      }
      return;
    }
    if (stored) this.#adopt(stored);
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

  async #persistPending(): Promise<void> {
    if (!this.#unsaved) return;
    const snapshot = this.#tokens;
    await this.#o.store.save(this.#o.accountKey, snapshot);
    if (this.#tokens === snapshot) this.#unsaved = false;
  }

  #margin(): number {
    if (this.#o.marginMs !== undefined) return this.#o.marginMs;
    const { expiresAt, meta } = this.#tokens;
    const obtained = Number(meta?.obtainedAt);
    if (expiresAt === undefined || !Number.isFinite(obtained)) return DEFAULT_MARGIN_MS;
    return Math.min(DEFAULT_MARGIN_MS, Math.max(0, (expiresAt - obtained) / 10));
  }

  /** The access token if it can still be handed out (saved, and not about to expire). */
  #usable(now: number): string | undefined {
    const { accessToken, expiresAt } = this.#tokens;
    if (!accessToken || this.#unsaved) return undefined;
    if (expiresAt === undefined) return accessToken;
    const minValidity = Math.min(30_000, this.#margin() / 2);
    return now < expiresAt - minValidity ? accessToken : undefined;
  }

  /** True while no refresh is due yet. */
  #fresh(now: number): boolean {
    const { expiresAt } = this.#tokens;
    return expiresAt === undefined || now < expiresAt - this.#margin();
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
      await this.#persistPending();
    } catch (err) {
      return this.#transient(err);
    }
    await this.#adoptNewerStored();
    if (this.#usable(this.#now()) && this.#fresh(this.#now())) return undefined;
    const refreshToken = this.#tokens.refreshToken;
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
    got = this.#clampLifetime(got);
    registerSecret(got.accessToken, ROTATING);
    this.#useRefreshToken(got.refreshToken ?? refreshToken);
    const meta: Record<string, string> = { ...this.#tokens.meta, ...got.meta };
    delete meta.invalid;
    delete meta.source;
    const next: TokenSet = { accessToken: got.accessToken, refreshToken: got.refreshToken ?? refreshToken, meta };
    if (got.expiresAt !== undefined) next.expiresAt = got.expiresAt;
    // Rotation first hits the disk, then the new access token may be used.
    this.#tokens = next;
    this.#unsaved = true;
    try {
      await this.#persistPending();
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
    if (got.expiresAt === undefined) return got;
    const obtained = Number(got.meta?.obtainedAt ?? this.#now());
    const from = Number.isFinite(obtained) ? obtained : this.#now();
    const lifetime = got.expiresAt - from;
    if (lifetime >= MIN_TOKEN_LIFETIME_MS) return got;
    const clamped = MIN_TOKEN_LIFETIME_MS;
    const fields = { expiresInS: lifetime / 1000, usedS: clamped / 1000 };
    if (this.#clampLogged) this.#log.debug("implausible token lifetime clamped", fields);
    else this.#log.warn("token endpoint gave an implausible expires_in; clamped (later ones logged at debug)", fields);
    this.#clampLogged = true;
    return { ...got, expiresAt: from + clamped };
  }

  /** Another process (or `botrun auth`) may have stored newer tokens: use them instead of refreshing. */
  async #adoptNewerStored(): Promise<void> {
    let stored: TokenSet | undefined;
    try {
      stored = await this.#o.store.load(this.#o.accountKey);
    } catch {
      return;
    }
    if (!stored?.refreshToken || stored.meta?.invalid || this.#unsaved) return;
    if (stored.refreshToken === this.#tokens.refreshToken && stored.accessToken === this.#tokens.accessToken) return;
    if (stored.refreshToken === this.#tokens.refreshToken && !this.#tokens.accessToken) return; // ours was discarded
    this.#log.info("adopting tokens stored by another process");
    this.#adopt(stored);
  }

  #transient(err: unknown): Error {
    const e =
      err instanceof TransientAuthError
        ? err
        : new TransientAuthError(
            `token refresh failed: ${scrub((err as Error)?.message, [this.#tokens.refreshToken, this.#tokens.accessToken]) ?? "unknown error"}`,
            "unknown",
          );
    this.#failures++;
    const { initialMs = 1000, maxMs = 5 * 60_000 } = this.#o.backoff ?? {};
    const jitter = backoffDelay(this.#failures, { baseMs: initialMs, maxMs, random: this.#o.random });
    // A Retry-After is honoured up to an hour (a hostile "retry in ten years" must not end refreshing).
    const delay = Math.max(100, jitter, Math.min(e.details.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
    this.#retryAt = this.#now() + delay;
    this.#lastError = e;
    this.#log.warn("token refresh failed; will retry", { error: e.message, code: e.code, attempt: this.#failures, retryInMs: delay });
    this.#events.emit("refresh-failed", { error: e, permanent: false });
    return e;
  }

  /** Permanent failure: remember it forever, mark a dead grant in the store, and tell listeners. */
  #latch(cause: PermanentAuthError, fromEndpoint: boolean): PermanentAuthError {
    const code = cause.code;
    const dead = DEAD_GRANT.test(code);
    const hint = `run \`botrun auth ${this.#bot}\``;
    const message = dead
      ? `OAuth consent revoked or expired (${code}): ${hint}`
      : code === "invalid_client" || code === "unauthorized_client"
        ? `OAuth client rejected (${code}): check OAUTH_CLIENT_ID / OAUTH_CLIENT_SECRET, then ${hint}`
        : `OAuth token refresh rejected (${code}): check the OAUTH_* settings, then ${hint}`;
    const err = new PermanentAuthError(message, code);
    this.#latched = err;
    this.stop();
    this.#log.error(message, { detail: cause.message });
    if (fromEndpoint && dead) {
      const marked: TokenSet = { meta: { ...this.#tokens.meta, invalid: code } };
      if (this.#tokens.refreshToken) marked.refreshToken = this.#tokens.refreshToken;
      this.#o.store.save(this.#o.accountKey, marked).catch((e: unknown) => this.#log.warn("could not mark the stored token invalid", { error: e }));
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
    else if (this.#unsaved || !this.#tokens.accessToken) at = now;
    else if (this.#tokens.expiresAt === undefined) return;
    else at = Math.max(this.#tokens.expiresAt - this.#margin(), this.#refreshedAt + MIN_REFRESH_INTERVAL_MS);
    if (!this.#tokens.refreshToken && !this.#unsaved) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - now));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#attempt();
    }, delay);
    this.#timer.unref?.();
  }
}
