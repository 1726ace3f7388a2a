/**
 * Choose and build a bot's transport: the terminal chat when no server is configured (or
 * `--console`), XMPP when `XMPP_DOMAIN` or `XMPP_SERVICE` is set (or `--xmpp`).
 */
import { fstatSync } from "node:fs";
import { isatty } from "node:tty";
// Each transport, and the OAuth code, loads only when a bot uses it (start-up time).
import { loadConfig, ConfigError, type BotConfig } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import type { Transport } from "../transport.ts";
import type { TokenProvider } from "../auth/types.ts";
import type { Env } from "./env.ts";
// Static: every bot's `@botrun/core` import loads these anyway, and each dynamic import would be
// one more split point in the bundled dist (more, smaller files to load at start-up).
import { createTokenProvider, tokenConfigFromEnv } from "../auth/create-provider.ts";
import { createXmppTransport } from "../xmpp/transport.ts";

/** True when stdin is closed or a character device that is not a terminal (/dev/null). */
function noInput(): boolean {
  try {
    const st = fstatSync(0);
    return st.isCharacterDevice() && !isatty(0);
  } catch {
    return true;
  }
}

/** How the transport is chosen. */
export type TransportMode = "auto" | "console" | "xmpp";

/** A built transport and, for XMPP, its configuration. */
export interface BuiltTransport {
  transport: Transport;
  config: BotConfig | undefined;
  /** The OAuth token provider, started; the caller stops it after the transport. */
  tokenProvider: TokenProvider | undefined;
}

/** Build the transport for one bot. Throws ConfigError/AuthConfigError naming the setting to fix. */
export async function buildTransport(opts: {
  botName: string;
  env: Env;
  mode: TransportMode;
  debug: boolean;
  logger: Logger;
  consoleUser?: string;
}): Promise<BuiltTransport> {
  const config = opts.mode === "console" ? undefined : loadConfig(opts.env, { debug: opts.debug });
  if (!config) {
    if (opts.mode === "xmpp") {
      throw new ConfigError("XMPP_SERVICE", "a server to connect to with --xmpp: set XMPP_SERVICE (xmpp://host:port) or XMPP_DOMAIN");
    }
    if (opts.mode === "auto" && noInput()) {
      // Under a service manager (stdin /dev/null or closed) the terminal chat would end at once, exit 0.
      throw new ConfigError("XMPP_SERVICE", "a server: none is configured and there is no terminal or input for the terminal chat (stdin is /dev/null or closed); set XMPP_SERVICE or XMPP_DOMAIN, or pass --console");
    }
    const { ConsoleTransport } = await import("../console/index.ts");
    return { transport: new ConsoleTransport({ botName: opts.botName, user: opts.consoleUser }), config: undefined, tokenProvider: undefined };
  }
  let tokenProvider: TokenProvider | undefined;
  if (config.mechanism === "X-MESSENGER-OAUTH2") {
    tokenProvider = createTokenProvider({ ...tokenConfigFromEnv(opts.env, opts.botName), logger: opts.logger });
  }
  // An unusable token store (another user's file, a world-writable directory) is a setting to fix: say so before connecting.
  try {
    await tokenProvider?.preflight?.();
  } catch (error) {
    await tokenProvider?.close?.(); // a Redis store's connection must not keep the process alive
    throw error;
  }
  const transport = createXmppTransport({ config, tokenProvider, logger: opts.logger, debug: opts.debug });
  tokenProvider?.start?.();
  return { transport, config, tokenProvider };
}
