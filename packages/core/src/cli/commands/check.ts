/**
 * `botrun check <bot>`: validate a bot's configuration, then connect, authenticate, bind and
 * disconnect once, printing one line per step (`config ok`, `DNS/SRV ok: host:port`, `TCP ok`,
 * `TLS ok`, `SASL <mechanism> ok`, `bound <jid>`, `disconnected`). The failing step is printed
 * as `<step> failed: <reason>`; the exit code follows exit-codes.ts.
 */
import { lookup } from "node:dns/promises";
import * as tls from "node:tls";
import type net from "node:net";
import { createTokenProvider, tokenConfigFromEnv } from "../../auth/create-provider.ts";
import type { TokenProvider } from "../../auth/types.ts";
import { ConfigError, loadConfig, type BotConfig } from "../../config/index.ts";
import { ExitCode } from "../../exit-codes.ts";
import { redactString, type Logger } from "../../logger.ts";
import { createXmppTransport } from "../../xmpp/index.ts";
import { resolveServices } from "../../xmpp/srv.ts";
import { parse } from "../../xmpp/sockets.ts";
import { botEnv, type Env } from "../env.ts";
import { errorExitCode, oneLine } from "../errors.ts";
import { loadBot } from "../resolve-bot.ts";
import { registerEnvSecrets } from "../run.ts";

/** Options of `runCheck`. */
export interface CheckOptions {
  bot: string;
  cwd: string;
  envFiles?: string[];
  env?: Env;
  /** Where step lines go; default stdout. */
  out?: (line: string) => void;
  logger: Logger;
  /** Trace the XML stream (`--debug`); default `XMPP_DEBUG`. */
  debug?: boolean;
}

const STEP_LABEL: Record<string, string> = {
  DNS: "DNS/SRV",
  "TCP connect": "TCP",
  TLS: "TLS",
  "stream features": "stream",
  SASL: "SASL",
  "resource binding": "bind",
};

/** Run the check; resolves with the exit code. */
export async function runCheck(opts: CheckOptions): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + "\n"));
  const say = (l: string) => out(redactString(l));
  let config: BotConfig;
  let tokenProvider: TokenProvider | undefined;
  try {
    const loaded = await loadBot(opts.bot, opts.cwd);
    const env = botEnv({ botName: loaded.bot.name, botDir: loaded.dir, cwd: opts.cwd, envFiles: opts.envFiles, env: opts.env });
    registerEnvSecrets(env);
    const c = loadConfig(env, opts.debug ? { debug: true } : {});
    if (!c) throw new ConfigError("XMPP_SERVICE", "a server to check: set XMPP_SERVICE (xmpp://host:port) or XMPP_DOMAIN");
    config = { ...c, tuning: { ...c.tuning, startAttempts: 1 } };
    if (config.mechanism === "X-MESSENGER-OAUTH2") {
      tokenProvider = createTokenProvider({ ...tokenConfigFromEnv(env, loaded.bot.name), logger: opts.logger });
    }
    const who = config.username ? `${config.username}@${config.domain}` : config.domain;
    say(`config ok: ${loaded.bot.name} as ${who}, ${config.mechanism}`);
  } catch (error) {
    say(`config failed: ${oneLine(error).replace(/^botrun( \[[^\]]*\])?: /, "")}`);
    return errorExitCode(error);
  }

  // DNS / SRV: what the transport will try first.
  let first: string;
  try {
    const candidates = config.service ? [config.service] : await resolveServices(config.domain, { dnsServers: config.dnsServers });
    const u = parse(candidates[0]!);
    if (!u) throw new Error(`cannot parse ${candidates[0]}`);
    if (config.service) await lookup(u.host);
    first = `${u.host}:${u.port ?? (u.protocol === "xmpps:" ? 5223 : 5222)}`;
    const how = config.service ? "XMPP_SERVICE" : candidates.length > 1 ? `SRV, ${candidates.length} candidates` : "SRV";
    say(`DNS/SRV ok: ${first} (${how})`);
  } catch (error) {
    tokenProvider?.stop?.();
    say(`DNS/SRV failed: ${oneLine(error).replace(/^botrun: /, "")}`);
    return ExitCode.UNAVAILABLE;
  }

  let tcpSaid = false;
  let tlsSaid = false;
  const onSocket = (s: net.Socket) => {
    const remote = `${s.remoteAddress ?? "?"}:${s.remotePort ?? "?"}`;
    if (!tcpSaid) {
      tcpSaid = true;
      say(`TCP ok: ${remote}`);
    }
    if (s instanceof tls.TLSSocket && !tlsSaid) {
      tlsSaid = true;
      const cipher = s.getCipher();
      say(`TLS ok: ${s.getProtocol() ?? "TLS"}${cipher?.name ? ` ${cipher.name}` : ""}, certificate verified for ${config.domain}`);
    }
  };
  const transport = createXmppTransport({
    config,
    tokenProvider,
    logger: opts.logger,
    onSocket,
    onBeforeSasl: (ctx) => {
      if (!ctx.secure && !tlsSaid) {
        tlsSaid = true;
        say("TLS off: unencrypted stream (allowed by XMPP_ALLOW_INSECURE)");
      }
    },
  });
  try {
    await transport.start();
    say(`SASL ${config.mechanism} ok`);
    say(`bound ${transport.jid ?? "?"}`);
  } catch (error) {
    const step = (error as { step?: string }).step;
    const label = step ? (STEP_LABEL[step] ?? step) : "connect";
    const msg = oneLine(error).replace(/^botrun: /, "").replace(new RegExp(`^${escape(step ?? "")}: `), "");
    say(`${label} failed: ${msg}`);
    await transport.stop().catch(() => {});
    tokenProvider?.stop?.();
    return errorExitCode(error);
  }
  await transport.stop();
  tokenProvider?.stop?.();
  say("disconnected");
  return ExitCode.OK;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
