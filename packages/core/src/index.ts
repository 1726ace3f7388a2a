/**
 * @botrun/core: the public API, listed name by name. A name is here because bots, plugins, the
 * fleet, the README or a type one of them needs uses it; internals stay importable by path inside
 * this package only. Keep it cheap to load: every module listed here loads with `@botrun/core`.
 */

// Bots and the middleware pipeline (README "A bot in ten lines", "The pipeline").
export { Bot, BotError, defineBot, type BotErrorHandler, type BotOptions } from "./bot.ts";
export {
  Composer,
  type CommandContext,
  type ErrorHandler,
  type HearsContext,
  type IqContext,
  type IqHandler,
  type Predicate,
} from "./composer.ts";
export {
  compose,
  toFn,
  NextCalledTwiceError,
  UnawaitedNextError,
  type Middleware,
  type MiddlewareFn,
  type MiddlewareObj,
  type NextFunction,
} from "./compose.ts";
export type { Filter, FilterQuery, FilterShapes } from "./filters.ts";
export { splitArgs } from "./args.ts";

// The per-stanza context.
export {
  Context,
  type BotApi,
  type ContextConstructor,
  type ContextOptions,
  type SendInterceptor,
  type SendOptions,
  type Show,
  type StanzaKind,
} from "./context.ts";
export type { ContextExtension } from "./runtime/context-class.ts";

// Stanzas, namespaces and JIDs.
export {
  message,
  presence,
  stanzaId,
  xml,
  NS,
  iqResult,
  iqError,
  StanzaError,
  type Element,
  type StanzaErrorCondition,
  type StanzaErrorType,
} from "./stanza.ts";
export * as jid from "./jid.ts";

// iq requests and service discovery (README "iq").
export { IqRequestError, IqTimeoutError, type RequestOptions } from "./iq/requests.ts";
export type { DiscoForm, DiscoIdentity, DiscoInfo, DiscoItem, DiscoProvider } from "./iq/disco-info.ts";
export { BOTRUN_VERSION } from "./iq/version.ts";

// Writing plugins: the host a plugin installs into, and the small parts plugins share with core
// (per-key ordering, the bot's nick per room, retry delays, literal text in a RegExp).
export type { DispatchOptions, Plugin, PluginHost, SendTransformer } from "./plugin.ts";
export { KeyedSequencer } from "./runtime/keyed-sequencer.ts";
export { mucStatusCodes, RoomNicks } from "./muc/self-presence.ts";
export { backoffCeiling } from "./xmpp/backoff.ts";
export { escapeRegExp } from "./regexp.ts";

// The roster (RFC 6121), kept current by the runtime.
export { rosterOf } from "./roster/sync.ts";
export { RosterView, type RosterEvents, type RosterItem, type Subscription } from "./roster/view.ts";

// Logging and secrets.
export { createConsoleLogger, registerSecret, silentLogger, type LogFields, type Logger, type LogLevel } from "./logger.ts";

// Running a bot from code (what `botrun` and the fleet do): configuration, runtime, transports.
export { loadConfig } from "./config/config.ts";
export type { BotConfig, ConfigFlags } from "./config/config.ts";
export { ConfigError } from "./config/errors.ts";
export { loadEnvFiles } from "./config/env-files.ts";
export { BotRuntime, type RuntimeEvents, type RuntimeOptions } from "./runtime/runtime.ts";
export type { Transport, TransportEvents } from "./transport.ts";
export { TypedEmitter } from "./emitter.ts";
export { createXmppTransport } from "./xmpp/transport.ts";
export type { BeforeSaslContext, BeforeSaslResult, XmppTransport, XmppTransportOptions, XmppTransportStats } from "./xmpp/transport-types.ts";
export { OutboxFullError } from "./xmpp/errors.ts";
export { StanzaTooLargeError } from "./xmpp/stanza-limit.ts";
export { ExitCode } from "./exit-codes.ts";
export { UnhandledRejections } from "./cli/unhandled-rejections.ts";

// OAuth tokens: endpoints, providers, stores.
export {
  PermanentAuthError,
  type EndpointRequestOptions,
  type TokenEndpoint,
  type TokenProvider,
  type TokenProviderEvents,
  type TokenSet,
  type TokenStore,
} from "./auth/types.ts";
export { TransientAuthError } from "./auth/errors.ts";
export type { FetchLike } from "./auth/http.ts";
export { createTokenProvider, tokenConfigFromEnv, type TokenProviderConfig } from "./auth/create-provider.ts";
export { RefreshingTokenProvider, type RefreshingTokenProviderOptions } from "./auth/refreshing-provider.ts";
/** For code that embeds botrun and gets tokens from its own source (a vault, a sidecar). */
export { FunctionTokenProvider, type FunctionTokenProviderOptions, type TokenFunction, type TokenFunctionResult } from "./auth/function-provider.ts";
export { OAuth2TokenEndpoint, type OAuth2EndpointOptions } from "./auth/oauth2-endpoint.ts";
export { WrapTokenEndpoint, type WrapEndpointOptions } from "./auth/wrap-endpoint.ts";
export { quitRedis, RedisTokenStore, type RedisLike, type RedisTokenStoreOptions } from "./auth/redis-store.ts";

// Running as a service: the JSON/pretty logger and Prometheus metrics.
export { createPinoLogger, isLogLevel, logFormatFrom, type LogFormat, type PinoLoggerOptions } from "./observability/pino-logger.ts";
export { ServiceMetrics, type ServiceMetricsOptions } from "./observability/metrics.ts";
