/** OAuth token lifecycle: stores, token endpoints, providers and the `botrun auth` flow. */
export { PermanentAuthError, type CodeExchanger, type EndpointRequestOptions, type TokenEndpoint, type TokenProvider, type TokenProviderEvents, type TokenSet, type TokenStore } from "./types.ts";
export { AuthConfigError, TransientAuthError } from "./errors.ts";
export { createTokenStore, defaultTokenDir, FileTokenStore, MemoryTokenStore } from "./file-store.ts";
export { quitRedis, RedisTokenStore, type RedisLike, type RedisTokenStoreOptions } from "./redis-store.ts";
export { RefreshingTokenProvider, type RefreshingTokenProviderOptions } from "./refreshing-provider.ts";
export { LIVE_OAUTH2_TOKEN_URL, OAuth2TokenEndpoint, PERMANENT_OAUTH_ERRORS, type OAuth2EndpointOptions } from "./oauth2-endpoint.ts";
export { LIVE_WRAP_URLS, WrapTokenEndpoint, type WrapEndpointOptions } from "./wrap-endpoint.ts";
export { StaticTokenProvider } from "./static-provider.ts";
export { FunctionTokenProvider, type FunctionTokenProviderOptions, type TokenFunction, type TokenFunctionResult } from "./function-provider.ts";
export { accountKeyFor, checkEndpointUrl, createTokenProvider, tokenConfigFromEnv, type AuthFlavor, type TokenProviderConfig } from "./create-provider.ts";
export {
  AuthorizationError,
  DEFAULT_OAUTH2_SCOPE,
  DEFAULT_WRAP_SCOPE,
  LIVE_OAUTH2_AUTHORIZE_URL,
  openBrowser,
  runAuthorizationFlow,
  type AuthorizationFlowOptions,
  type AuthorizationResult,
} from "./authorize.ts";
export type { FetchLike } from "./http.ts";
