/**
 * `createTokenProvider(config)`: picks the token provider (static, OAuth 2.0 or WRAP refreshing)
 * from a plain config object, and `tokenConfigFromEnv(env, bot)` builds that object from the
 * `XMPP_ACCESS_TOKEN` / `OAUTH_*` / `BOTRUN_TOKEN_STORE` variables. Errors name the setting to fix.
 */
import { registerSecret, type Logger } from "../logger.ts";
import { AuthConfigError } from "./errors.ts";
import { createTokenStore } from "./create-store.ts";
import type { FetchLike } from "./http.ts";
import { OAuth2TokenEndpoint } from "./oauth2-endpoint.ts";
import { RefreshingTokenProvider } from "./refreshing-provider.ts";
import { StaticTokenProvider } from "./static-provider.ts";
import type { TokenProvider, TokenSet, TokenStore } from "./types.ts";
import { WrapTokenEndpoint } from "./wrap-endpoint.ts";

/** Which token protocol the account uses. */
export type AuthFlavor = "oauth2" | "wrap";

/** Plain configuration of a token provider (see `tokenConfigFromEnv` for the variable names). */
export interface TokenProviderConfig {
  /** Default `oauth2` (OAUTH_FLAVOR). */
  flavor?: AuthFlavor;
  /** Token (OAuth 2.0) or refresh (WRAP) URL (OAUTH_TOKEN_URL); default Live's. */
  tokenUrl?: string;
  /** OAUTH_CLIENT_ID: required for OAuth 2.0 refresh, optional for WRAP refresh. */
  clientId?: string;
  clientSecret?: string;
  /** How an OAuth 2.0 client secret is sent; default `body`. */
  clientAuth?: "body" | "basic";
  /** OAUTH_REFRESH_TOKEN: only seeds an empty store; a stored token wins. */
  refreshToken?: string;
  scope?: string;
  /** XMPP_ACCESS_TOKEN: alone → static provider; with refresh settings → initial access token. */
  accessToken?: string;
  /** BOTRUN_TOKEN_STORE spec; ignored when `store` is given. */
  storeSpec?: string;
  store?: TokenStore;
  /** Store key; by convention the bot's name. */
  accountKey: string;
  /** Bot name for the `botrun auth <bot>` hint; default `accountKey`. */
  botName?: string;
  fetch?: FetchLike;
  now?: () => number;
  marginMs?: number;
  requestTimeoutMs?: number;
  logger?: Logger;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Validate an endpoint URL: https, or http on loopback only (tokens must not cross the network in clear). */
export function checkEndpointUrl(value: string, setting: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new AuthConfigError(`${setting} is not a valid URL`, setting);
  }
  if (u.protocol === "https:" || (u.protocol === "http:" && LOOPBACK.has(u.hostname))) return value;
  throw new AuthConfigError(`${setting} must be an https:// URL (http:// is allowed on 127.0.0.1/localhost only)`, setting);
}

/** Build the token provider described by `config`. Throws `AuthConfigError` naming the missing setting. */
export function createTokenProvider(config: TokenProviderConfig): TokenProvider {
  registerSecret(config.clientSecret);
  const flavor = config.flavor ?? "oauth2";
  if (flavor !== "oauth2" && flavor !== "wrap") {
    throw new AuthConfigError(`OAUTH_FLAVOR must be "oauth2" or "wrap", not "${String(flavor)}"`, "OAUTH_FLAVOR");
  }
  if (!config.accountKey) throw new AuthConfigError("no account key for the token store (bot name missing)", "BOTRUN_BOT");
  const refreshConfigured = Boolean(config.refreshToken || config.clientId);
  if (config.accessToken && !refreshConfigured) return new StaticTokenProvider(config.accessToken);
  if (!refreshConfigured && !config.store && !config.storeSpec && flavor === "oauth2") {
    throw new AuthConfigError(
      "no XMPP credentials: set XMPP_ACCESS_TOKEN (static token), or OAUTH_CLIENT_ID plus OAUTH_REFRESH_TOKEN (or run `botrun auth <bot>`)",
      "OAUTH_CLIENT_ID",
    );
  }
  const tokenUrl = config.tokenUrl ? checkEndpointUrl(config.tokenUrl, "OAUTH_TOKEN_URL") : undefined;
  let endpoint;
  if (flavor === "oauth2") {
    if (!config.clientId) {
      throw new AuthConfigError("OAUTH_CLIENT_ID is not set: it is needed to refresh OAuth 2.0 tokens", "OAUTH_CLIENT_ID");
    }
    endpoint = new OAuth2TokenEndpoint({
      clientId: config.clientId,
      ...(tokenUrl !== undefined && { tokenUrl }),
      ...(config.clientSecret !== undefined && { clientSecret: config.clientSecret }),
      ...(config.clientAuth !== undefined && { clientAuth: config.clientAuth }),
      ...(config.scope !== undefined && { scope: config.scope }),
      ...(config.fetch !== undefined && { fetch: config.fetch }),
      ...(config.now !== undefined && { now: config.now }),
    });
  } else {
    endpoint = new WrapTokenEndpoint({
      ...(tokenUrl !== undefined && { refreshUrl: tokenUrl }),
      ...(config.clientId !== undefined && { clientId: config.clientId }),
      ...(config.clientSecret !== undefined && { clientSecret: config.clientSecret }),
      ...(config.fetch !== undefined && { fetch: config.fetch }),
      ...(config.now !== undefined && { now: config.now }),
    });
  }
  const seed: TokenSet = {};
  if (config.refreshToken) seed.refreshToken = config.refreshToken;
  if (config.accessToken) seed.accessToken = config.accessToken;
  return new RefreshingTokenProvider({
    endpoint,
    store: config.store ?? createTokenStore(config.storeSpec),
    accountKey: config.accountKey,
    seed,
    ...(config.botName !== undefined && { botName: config.botName }),
    ...(config.marginMs !== undefined && { marginMs: config.marginMs }),
    ...(config.now !== undefined && { now: config.now }),
    ...(config.requestTimeoutMs !== undefined && { requestTimeoutMs: config.requestTimeoutMs }),
    ...(config.logger !== undefined && { logger: config.logger }),
  });
}

/** The store key of a bot's tokens (the bot's name); `botrun auth <bot>` writes under the same key. */
export function accountKeyFor(botName: string): string {
  return botName;
}

/** Read `XMPP_ACCESS_TOKEN`, `OAUTH_FLAVOR`, `OAUTH_TOKEN_URL`, `OAUTH_CLIENT_ID`, `OAUTH_CLIENT_SECRET`, `OAUTH_REFRESH_TOKEN`, `OAUTH_SCOPE`, `BOTRUN_TOKEN_STORE`. */
export function tokenConfigFromEnv(env: NodeJS.ProcessEnv, botName: string): TokenProviderConfig {
  const get = (k: string) => {
    const v = env[k]?.trim();
    return v ? v : undefined;
  };
  const flavor = (get("OAUTH_FLAVOR") ?? "oauth2").toLowerCase();
  if (flavor !== "oauth2" && flavor !== "wrap") {
    throw new AuthConfigError(`OAUTH_FLAVOR must be "oauth2" or "wrap", not "${flavor}"`, "OAUTH_FLAVOR");
  }
  const cfg: TokenProviderConfig = { flavor, accountKey: accountKeyFor(botName), botName };
  const set = <K extends keyof TokenProviderConfig>(key: K, v: TokenProviderConfig[K] | undefined) => {
    if (v !== undefined) cfg[key] = v;
  };
  set("tokenUrl", get("OAUTH_TOKEN_URL"));
  set("clientId", get("OAUTH_CLIENT_ID"));
  set("clientSecret", get("OAUTH_CLIENT_SECRET"));
  set("refreshToken", get("OAUTH_REFRESH_TOKEN"));
  set("scope", get("OAUTH_SCOPE"));
  set("accessToken", get("XMPP_ACCESS_TOKEN"));
  set("storeSpec", get("BOTRUN_TOKEN_STORE"));
  const auth = get("OAUTH_CLIENT_AUTH");
  if (auth !== undefined) {
    if (auth !== "body" && auth !== "basic") throw new AuthConfigError(`OAUTH_CLIENT_AUTH must be "body" or "basic"`, "OAUTH_CLIENT_AUTH");
    cfg.clientAuth = auth;
  }
  return cfg;
}
