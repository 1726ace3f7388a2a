/**
 * Runs botrun's echo bot in-process over the real XMPP transport (config from an env table, like
 * the CLI does), recording transport events and log lines so tests can wait on them; and any bot
 * logged in with a password (`startPasswordRuntime`).
 */
import { BotRuntime, createConsoleLogger, createXmppTransport, loadConfig, type Bot, type Context, type Logger, type TokenProvider, type TransportEvents, type XmppTransport } from "@botrun/core";
import echoBot from "../../../bots/echo/bot.ts";

/** A logger that keeps every line (secrets already masked by the console logger). */
export function captureLogger(level: "debug" | "info" = "info"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createConsoleLogger({ level, write: (l) => lines.push(l) }), lines };
}

/** One recorded transport event. */
export interface RecordedEvent {
  at: number;
  type: keyof TransportEvents;
  detail?: unknown;
}

/** A running echo bot. */
export interface EchoRuntime {
  runtime: BotRuntime;
  transport: XmppTransport;
  events: RecordedEvent[];
  lines: string[];
  /** Resolve at the next event of `type` after index `from` (default: any time), reject after `timeoutMs`. */
  waitEvent(type: keyof TransportEvents, timeoutMs: number, from?: number): Promise<RecordedEvent>;
  stop(): Promise<void>;
}

/** Start the echo bot with `env` (XMPP_* / OAUTH_* names); resolves once online. */
export async function startEchoRuntime(env: Record<string, string>, opts: { tokenProvider?: TokenProvider } = {}): Promise<EchoRuntime> {
  const config = loadConfig(env);
  if (!config) throw new Error("no XMPP server configured");
  const { logger, lines } = captureLogger();
  const transport = createXmppTransport({ config, logger, tokenProvider: opts.tokenProvider });
  const events: RecordedEvent[] = [];
  const waiters = new Set<() => void>();
  for (const type of ["online", "resumed", "offline", "reconnecting", "token-refreshed", "fatal"] as const) {
    transport.on(type, (detail: unknown) => {
      events.push({ at: Date.now(), type, detail });
      for (const w of [...waiters]) w();
    });
  }
  const runtime = new BotRuntime(echoBot, transport, { logger });
  await runtime.start();
  return {
    runtime,
    transport,
    events,
    lines,
    waitEvent(type, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const e = events.slice(from).find((x) => x.type === type);
          if (!e) return;
          clearTimeout(t);
          waiters.delete(check);
          resolve(e);
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no "${type}" event within ${timeoutMs} ms; events: ${events.map((e) => e.type).join(",")}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop: () => runtime.stop(),
  };
}

/** A started runtime for `bot`, logged in as `user@<domain>/bot` with `password` over plain TCP to a loopback Prosody. */
export async function startPasswordRuntime<C extends Context>(
  bot: Bot<C>,
  prosody: { c2sPort: number; domain: string },
  user: string,
  password: string,
): Promise<{ runtime: BotRuntime<C>; transport: XmppTransport; lines: string[] }> {
  const config = loadConfig({
    XMPP_SERVICE: `xmpp://127.0.0.1:${prosody.c2sPort}`,
    XMPP_USERNAME: `${user}@${prosody.domain}`,
    XMPP_PASSWORD: password,
    XMPP_RESOURCE: "bot",
    XMPP_ALLOW_INSECURE: "1",
  });
  const { logger, lines } = captureLogger();
  const transport = createXmppTransport({ config: config!, logger });
  const runtime = new BotRuntime(bot, transport, { logger });
  await runtime.start();
  return { runtime, transport, lines };
}
