/**
 * `botrun check <bot>`: validate a bot's configuration, then connect, authenticate, bind and
 * disconnect once, printing one line per step (`config ok`, `token ok` with an OAuth token source,
 * `DNS/SRV ok: host:port`, `TCP ok`, `TLS ok`, `SASL <mechanism> ok`, `bound <jid>`,
 * `disconnected`). The failing step is printed as `<step> failed: <reason>`, never for a step
 * already reported ok; the exit code follows exit-codes.ts (token endpoint: transient 4, consent 3,
 * configuration 2).
 */
import { lookup } from "node:dns/promises";
import * as tls from "node:tls";
import type net from "node:net";
import { createTokenProvider, tokenConfigFromEnv } from "../../auth/create-provider.ts";
import { TransientAuthError } from "../../auth/errors.ts";
import type { TokenProvider } from "../../auth/types.ts";
import { ConfigError, loadConfig, type BotConfig } from "../../config/index.ts";
import { ExitCode } from "../../exit-codes.ts";
import { redactString, type Logger } from "../../logger.ts";
import { escapeRegExp } from "../../regexp.ts";
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
  token: "token",
  SASL: "SASL",
  "resource binding": "bind",
};
/** The labels in the order they are printed. */
const ORDER = ["config", "token", "DNS/SRV", "TCP", "TLS", "stream", "SASL", "bind"];

/** Exit code of a token-provider failure: transient endpoint trouble is 4 (try later), the rest as usual. */
function tokenExitCode(error: unknown): number {
  return error instanceof TransientAuthError ? ExitCode.UNAVAILABLE : errorExitCode(error);
}

/** Run the check; resolves with the exit code. */
export async function runCheck(opts: CheckOptions): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + "\n"));
  const say = (l: string) => out(redactString(l));
  /** Steps reported ok (or off), by label. */
  const ok = new Set<string>();
  const pass = (label: string, l: string) => {
    ok.add(label);
    say(l);
  };
  /** A failure of a step already reported ok belongs to the step after the last one that passed. */
  const failedStep = (label: string) => {
    if (!ok.has(label)) return label;
    const last = Math.max(...[...ok].map((o) => ORDER.indexOf(o)));
    return ORDER[last + 1] ?? "connect";
  };
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
    pass("config", `config ok: ${loaded.bot.name} as ${who}, ${config.mechanism}`);
  } catch (error) {
    say(`config failed: ${oneLine(error).replace(/^botrun( \[[^\]]*\])?: /, "")}`);
    return errorExitCode(error);
  }

  // The OAuth token first: its endpoint is a step of its own (not "TLS", not "SASL").
  if (tokenProvider) {
    try {
      await tokenProvider.getAccessToken();
      const exp = (tokenProvider as { expiresAt?: number }).expiresAt;
      pass("token", `token ok: access token obtained${exp !== undefined ? `, valid for ${Math.max(0, Math.round((exp - Date.now()) / 1000))} s` : ""}`);
    } catch (error) {
      say(`token failed: ${oneLine(error).replace(/^botrun( \[[^\]]*\])?: /, "")}`);
      await tokenProvider.close?.();
      return tokenExitCode(error);
    }
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
    pass("DNS/SRV", `DNS/SRV ok: ${first} (${how})`);
  } catch (error) {
    await tokenProvider?.close?.();
    say(`DNS/SRV failed: ${oneLine(error).replace(/^botrun: /, "")}`);
    return ExitCode.UNAVAILABLE;
  }

  let tcpSaid = false;
  let tlsSaid = false;
  const onSocket = (s: net.Socket) => {
    const remote = `${s.remoteAddress ?? "?"}:${s.remotePort ?? "?"}`;
    if (!tcpSaid) {
      tcpSaid = true;
      pass("TCP", `TCP ok: ${remote}`);
    }
    if (s instanceof tls.TLSSocket && !tlsSaid) {
      tlsSaid = true;
      const cipher = s.getCipher();
      pass("TLS", `TLS ok: ${s.getProtocol() ?? "TLS"}${cipher?.name ? ` ${cipher.name}` : ""}, certificate verified for ${config.domain}`);
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
        pass("TLS", "TLS off: unencrypted stream (allowed by XMPP_ALLOW_INSECURE)");
      }
    },
  });
  try {
    await transport.start();
    pass("SASL", `SASL ${transport.saslMechanism ?? config.mechanism} ok`);
    pass("bind", `bound ${transport.jid ?? "?"}`);
  } catch (error) {
    const step = (error as { step?: string }).step;
    const label = failedStep(step ? (STEP_LABEL[step] ?? step) : "connect");
    const msg = oneLine(error).replace(/^botrun: /, "").replace(new RegExp(`^${escapeRegExp(step ?? "")}: `), "");
    say(`${label} failed: ${msg}`);
    await transport.stop().catch(() => {});
    await tokenProvider?.close?.();
    return step === "token" ? tokenExitCode((error as { cause?: unknown }).cause ?? error) : errorExitCode(error);
  }
  await transport.stop();
  await tokenProvider?.close?.();
  say("disconnected");
  return ExitCode.OK;
}
