// The public index lists its names one by one: a name added or lost shows here (issue 11.2).
import { describe, expect, it } from "vitest";
import * as core from "./index.ts";

/** Every runtime name `@botrun/core` exports (types are not visible at run time). */
const RUNTIME_NAMES = [
  "RoomNicks", "backoffCeiling", "escapeRegExp", "mucStatusCodes",
  "BOTRUN_VERSION", "Bot", "BotError", "BotRuntime", "Composer", "ConfigError", "Context", "ExitCode",
  "FunctionTokenProvider",
  "IqRequestError", "IqTimeoutError", "KeyedSequencer", "NS", "NextCalledTwiceError", "OAuth2TokenEndpoint",
  "OutboxFullError", "PermanentAuthError", "RedisTokenStore", "RefreshingTokenProvider", "RosterView",
  "ServiceMetrics", "StanzaError", "StanzaTooLargeError", "TransientAuthError", "TypedEmitter",
  "UnawaitedNextError", "UnhandledRejections", "WrapTokenEndpoint", "compose", "createConsoleLogger",
  "createPinoLogger", "createTokenProvider", "createXmppTransport", "defineBot", "iqError", "iqResult",
  "isLogLevel", "jid", "loadConfig", "loadEnvFiles", "logFormatFrom", "message", "presence", "quitRedis",
  "registerSecret", "rosterOf", "silentLogger", "splitArgs", "stanzaId", "toFn", "tokenConfigFromEnv", "xml",
];

describe("@botrun/core's public index", () => {
  it("exports exactly the curated runtime names", () => {
    expect(Object.keys(core).sort()).toEqual([...RUNTIME_NAMES].sort());
  });
});
