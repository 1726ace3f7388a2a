/** Configuration: environment contract, validation and .env loading. */
export { ConfigError } from "./errors.ts";
export { loadConfig, DEFAULT_TUNING, MECHANISMS } from "./config.ts";
export type { BotConfig, ConfigFlags, Mechanism, OAuthConfig, OutboxOverflow, XmppTuning } from "./config.ts";
export { loadEnvFiles } from "./env-files.ts";
