/** @botrun/core: the public API. */
export { Bot, BotError, defineBot, isBot, type BotErrorHandler, type BotOptions } from "./bot.ts";
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
export {
  Composer,
  type CommandContext,
  type ErrorHandler,
  type HearsContext,
  type IqContext,
  type IqHandler,
  type Predicate,
} from "./composer.ts";
export { Context, type BotApi, type SendOptions, type Show, type StanzaKind } from "./context.ts";
export { FILTER_QUERIES, matchFilter, type Filter, type FilterQuery, type FilterShapes } from "./filters.ts";
export { parseCommand, splitArgs, type ParsedCommand } from "./args.ts";
export * as jid from "./jid.ts";
export { createConsoleLogger, redact, registerSecret, silentLogger, type LogFields, type Logger, type LogLevel } from "./logger.ts";
export type { DispatchOptions, Plugin, PluginHost, SendTransformer } from "./plugin.ts";
export { KeyedSequencer } from "./runtime/chat-queue.ts";
export { BotRuntime, type RuntimeEvents, type RuntimeOptions } from "./runtime/runtime.ts";
export {
  message,
  presence,
  readStanzaError,
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
export { IqRequestError, IqTimeoutError, type RequestOptions } from "./iq/requests.ts";
export { capsVer, CAPS_NODE } from "./iq/caps.ts";
export type { DiscoForm, DiscoIdentity, DiscoInfo, DiscoItem, DiscoProvider } from "./iq/disco-info.ts";
export { BOTRUN_VERSION } from "./iq/version.ts";
export type { Transport, TransportEvents } from "./transport.ts";
export { TypedEmitter } from "./emitter.ts";
export * from "./roster/index.ts";
export { ExitCode } from "./exit-codes.ts";
export { UnhandledRejections } from "./cli/unhandled-rejections.ts";
export * from "./config/index.ts";
export * from "./xmpp/index.ts";
export * from "./auth/index.ts";
export { ConsoleTransport, type ConsoleTransportOptions } from "./console/index.ts";
export * from "./observability/index.ts";
