/** Running botrun as a service: the pino logger, Prometheus metrics, health endpoint, console redaction. */
export { createPinoLogger, logFormatFrom, isLogLevel, REDACT_PATHS, type LogFormat, type PinoLoggerOptions } from "./pino-logger.ts";
export { formatPretty } from "./pretty.ts";
export { ServiceMetrics, BOT_STATES, type BotState, type BotStatus, type WatchedBot, type RuntimeLike, type ServiceMetricsOptions } from "./metrics.ts";
export { startHttpEndpoint, type HttpEndpoint, type HttpEndpointOptions } from "./http-server.ts";
export { redirectConsole } from "./console-redirect.ts";
