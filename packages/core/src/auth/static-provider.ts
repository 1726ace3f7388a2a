/**
 * `StaticTokenProvider`: serves one fixed access token (`XMPP_ACCESS_TOKEN`).
 * Decision: a static token cannot be refreshed, so `forceRefresh` (asked for after the server
 * rejected the token) rejects with `PermanentAuthError` code `static_token_rejected`: the runtime
 * stops with the re-auth exit code instead of reconnecting forever with a dead token.
 */
import { TypedEmitter } from "../emitter.ts";
import { registerSecret } from "../logger.ts";
import { PermanentAuthError, type TokenProvider, type TokenProviderEvents } from "./types.ts";

/** A provider of a fixed access token. */
export class StaticTokenProvider implements TokenProvider {
  readonly #token: string;
  readonly #events = new TypedEmitter<TokenProviderEvents>();

  constructor(accessToken: string) {
    if (!accessToken) throw new TypeError("StaticTokenProvider: empty access token");
    registerSecret(accessToken);
    this.#token = accessToken;
  }

  /** Subscribe to `refresh-failed` (emitted when a refresh is asked of the static token). */
  on<K extends keyof TokenProviderEvents & string>(event: K, listener: (p: TokenProviderEvents[K]) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  async getAccessToken(opts: { forceRefresh?: boolean } = {}): Promise<string> {
    if (opts.forceRefresh) {
      const err = new PermanentAuthError(
        "access token rejected; static tokens cannot be refreshed: set a new XMPP_ACCESS_TOKEN or configure OAUTH_REFRESH_TOKEN / `botrun auth`",
        "static_token_rejected",
      );
      this.#events.emit("refresh-failed", { error: err, permanent: true });
      throw err;
    }
    return this.#token;
  }

  start(): void {}
  stop(): void {}
}
