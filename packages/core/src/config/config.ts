/**
 * Bot configuration from the environment (and optional CLI flags): one typed `BotConfig`, or
 * `undefined` for console mode when neither `XMPP_DOMAIN` nor `XMPP_SERVICE` is set.
 *
 * | Variable | Meaning | Default |
 * | --- | --- | --- |
 * | `XMPP_SERVICE` | Where to connect: `xmpp://host[:port]` (STARTTLS) or `xmpps://host[:port]` (direct TLS) | SRV lookup of `XMPP_DOMAIN` |
 * | `XMPP_DOMAIN` | The XMPP domain (JID domain, TLS name) | host of `XMPP_SERVICE` |
 * | `XMPP_USERNAME` | Local part of the bot's JID (`bot` or `bot@domain`) | none (required for SCRAM/PLAIN) |
 * | `XMPP_PASSWORD` | Password for SCRAM/PLAIN | none |
 * | `XMPP_RESOURCE` | Resource to bind | server-assigned |
 * | `XMPP_MECHANISM` | `auto` (the strongest offered: SCRAM-SHA-512/256/1, `-PLUS` first with channel binding, then PLAIN) or one forced mechanism: `X-MESSENGER-OAUTH2`, `SCRAM-SHA-512-PLUS`, `SCRAM-SHA-256-PLUS`, `SCRAM-SHA-1-PLUS`, `SCRAM-SHA-512`, `SCRAM-SHA-256`, `SCRAM-SHA-1`, `PLAIN` (never negotiated down) | X-MESSENGER-OAUTH2 with a token source, else auto |
 * | `XMPP_ACCESS_TOKEN` | A static access token for X-MESSENGER-OAUTH2 | none |
 * | `XMPP_CA_FILE` | PEM file of CA certificates to trust for this connection only | system CAs |
 * | `XMPP_ALLOW_INSECURE` | Allow credentials on an unencrypted stream; only with a loopback server (127.0.0.0/8, ::1, localhost), else a config error | false |
 * | `XMPP_DNS_SERVER` | Comma-separated DNS servers (`ip` or `ip:port`) for SRV lookups | system resolver |
 * | `XMPP_PING_INTERVAL` | Seconds of inbound silence before a XEP-0199 ping to the server | 30 |
 * | `XMPP_PING_TIMEOUT` | Seconds to wait for the ping reply before the connection is declared dead | 15 |
 * | `XMPP_SM_ACK_TIMEOUT` | Seconds to wait for a XEP-0198 `<a/>` after `<r/>` before the connection is declared dead | 60 |
 * | `XMPP_CONNECT_TIMEOUT` | Seconds for one whole connect attempt (TCP, TLS, features, SASL, bind) | 30 |
 * | `XMPP_SASL_TIMEOUT` | Seconds for the SASL exchange | 15 |
 * | `XMPP_RECONNECT_BASE_DELAY` | Seconds: backoff base (delay = random(0, min(max, base·2^attempt))) | 1 |
 * | `XMPP_RECONNECT_MAX_DELAY` | Seconds: backoff cap | 60 |
 * | `XMPP_RECONNECT_STABLE_AFTER` | Seconds online after which the backoff attempt counter resets | 60 |
 * | `XMPP_START_ATTEMPTS` | Connect attempts by `start()` before it rejects (exit 4) | 3 |
 * | `XMPP_OUTBOX_LIMIT` | Maximum stanzas queued for sending | 10000 |
 * | `XMPP_OUTBOX_OVERFLOW` | `reject` (send() rejects with OutboxFullError) or `block` (send() waits for room) | reject |
 * | `XMPP_MAX_STANZA_BYTES` | Largest outgoing stanza (UTF-8 bytes); larger ones are dropped before sending | the server's XEP-0478 limit, else 261120 |
 * | `XMPP_STOP_TIMEOUT` | Seconds `stop()` may spend flushing the outbox and waiting for acks | 5 |
 * | `XMPP_DEBUG` | Trace the XML stream on the console (xmpp/debug-trace.ts; SASL payloads hidden) | false |
 * | `OAUTH_FLAVOR` | `oauth2` or `wrap` | oauth2 |
 * | `OAUTH_TOKEN_URL` | Token endpoint (http/https) | none |
 * | `OAUTH_AUTHORIZE_URL` | Authorization endpoint (http/https) | none |
 * | `OAUTH_CLIENT_ID` / `OAUTH_CLIENT_SECRET` | OAuth client credentials | none |
 * | `OAUTH_REFRESH_TOKEN` | A refresh token (seeds the token store) | none |
 * | `OAUTH_SCOPE` | Requested scopes | none |
 * | `OAUTH_REDIRECT_URI` | Redirect URI for `botrun auth` | none |
 * | `OAUTH_DEVICE_URL` | RFC 8628 device authorization endpoint for `botrun auth --device` (http/https) | none |
 * | `OAUTH_ISSUER` | Authorization server whose RFC 8414 metadata gives `botrun auth` its endpoints (http/https) | none |
 * | `BOTRUN_TOKEN_STORE` | Path of the token store file | none |
 * | `BOTRUN_VERSION_OS` | `true`: XEP-0092 software-version replies include `<os/>` (the OS name and release) | false |
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "./errors.ts";
import { bool, int, oneOf, seconds, str, url, type Env } from "./parse.ts";
import { INSECURE_LOOPBACK_ONLY, isLoopbackHost } from "./loopback.ts";

/**
 * `XMPP_MECHANISM` values: `auto` (resolved per connect by xmpp/sasl.ts: the first offered of the
 * password mechanisms below, in this order, strongest first) or a SASL mechanism botrun implements
 * (this is the one list: xmpp/sasl-mechanisms.ts reads each name's implementation from the name).
 */
export const MECHANISMS = [
  "auto", "X-MESSENGER-OAUTH2",
  "SCRAM-SHA-512-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN",
] as const;
export type Mechanism = (typeof MECHANISMS)[number];

/** Outbox overflow policies: `reject` makes `send()` reject with `OutboxFullError`; `block` makes it wait for room. */
export type OutboxOverflow = "reject" | "block";

/** OAuth client settings (consumed by the token providers). */
export interface OAuthConfig {
  flavor: "oauth2" | "wrap";
  tokenUrl?: string;
  authorizeUrl?: string;
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  scope?: string;
  redirectUri?: string;
  /** Device authorization endpoint (RFC 8628), for `botrun auth`. */
  deviceUrl?: string;
  /** Issuer whose RFC 8414 metadata `botrun auth` reads. */
  issuer?: string;
}

/** Timers and limits of the XMPP transport, all in milliseconds or counts. */
export interface XmppTuning {
  pingIntervalMs: number;
  pingTimeoutMs: number;
  smAckTimeoutMs: number;
  connectTimeoutMs: number;
  saslTimeoutMs: number;
  reconnectBaseDelayMs: number;
  reconnectMaxDelayMs: number;
  reconnectStableAfterMs: number;
  startAttempts: number;
  outboxLimit: number;
  outboxOverflow: OutboxOverflow;
  stopTimeoutMs: number;
  /** `XMPP_MAX_STANZA_BYTES`: largest outgoing stanza; undefined: the server's XEP-0478 limit, else a default. */
  maxStanzaBytes?: number;
}

/** A validated bot configuration. Secrets are kept only in `password`, `accessToken` and `oauth`. */
export interface BotConfig {
  /** Explicit service URI (`xmpp://…` or `xmpps://…`); undefined means SRV discovery. */
  service?: string;
  domain: string;
  username?: string;
  password?: string;
  resource?: string;
  mechanism: Mechanism;
  accessToken?: string;
  caFile?: string;
  /** Contents of `caFile` (PEM). */
  ca?: string;
  allowInsecure: boolean;
  /** DNS servers for SRV lookups (`ip` or `ip:port`). */
  dnsServers?: string[];
  oauth: OAuthConfig;
  tokenStore?: string;
  debug: boolean;
  tuning: XmppTuning;
}

/** Default tuning, also used by tests that build a `BotConfig` by hand. */
export const DEFAULT_TUNING: XmppTuning = {
  pingIntervalMs: 30_000,
  pingTimeoutMs: 15_000,
  smAckTimeoutMs: 60_000,
  connectTimeoutMs: 30_000,
  saslTimeoutMs: 15_000,
  reconnectBaseDelayMs: 1_000,
  reconnectMaxDelayMs: 60_000,
  reconnectStableAfterMs: 60_000,
  startAttempts: 3,
  outboxLimit: 10_000,
  outboxOverflow: "reject",
  stopTimeoutMs: 5_000,
};

/** CLI flags that override the environment. */
export interface ConfigFlags {
  debug?: boolean;
  /** Extra `NAME=value` overrides, applied over `env`. */
  set?: Record<string, string | undefined>;
}

/** Build the configuration. Returns undefined (console mode) when neither XMPP_DOMAIN nor XMPP_SERVICE is set. */
export function loadConfig(env: Env, flags: ConfigFlags = {}): BotConfig | undefined {
  const e: Env = { ...env, ...(flags.set ?? {}) };
  const serviceUrl = url(e, "XMPP_SERVICE", ["xmpp:", "xmpps:"]);
  let domain = str(e, "XMPP_DOMAIN");
  if (!serviceUrl && !domain) return undefined;

  let username = str(e, "XMPP_USERNAME");
  if (username?.includes("@")) {
    const [local, dom] = username.split("@", 2) as [string, string];
    if (!local || !dom) throw new ConfigError("XMPP_USERNAME", "a local part or a bare JID like bot@example.org", username);
    username = local;
    domain ??= dom;
  }
  if (!domain) domain = serviceUrl!.hostname.replace(/^\[(.*)\]$/, "$1");
  if (/[\s/@]/.test(domain)) throw new ConfigError("XMPP_DOMAIN", "a domain name like example.org", domain);

  const password = str(e, "XMPP_PASSWORD");
  const accessToken = str(e, "XMPP_ACCESS_TOKEN");
  const oauth: OAuthConfig = {
    flavor: oneOf(e, "OAUTH_FLAVOR", ["oauth2", "wrap"] as const) ?? "oauth2",
    tokenUrl: url(e, "OAUTH_TOKEN_URL", ["http:", "https:"])?.href,
    authorizeUrl: url(e, "OAUTH_AUTHORIZE_URL", ["http:", "https:"])?.href,
    clientId: str(e, "OAUTH_CLIENT_ID"),
    clientSecret: str(e, "OAUTH_CLIENT_SECRET"),
    refreshToken: str(e, "OAUTH_REFRESH_TOKEN"),
    scope: str(e, "OAUTH_SCOPE"),
    redirectUri: str(e, "OAUTH_REDIRECT_URI"),
    deviceUrl: url(e, "OAUTH_DEVICE_URL", ["http:", "https:"])?.href,
    issuer: url(e, "OAUTH_ISSUER", ["http:", "https:"])?.href,
  };
  const tokenStore = str(e, "BOTRUN_TOKEN_STORE");
  const refreshable = Boolean(oauth.refreshToken || (oauth.tokenUrl && tokenStore));
  const hasTokenSource = Boolean(accessToken) || refreshable;

  const mechanism: Mechanism =
    oneOf(e, "XMPP_MECHANISM", MECHANISMS) ?? (hasTokenSource || !password ? "X-MESSENGER-OAUTH2" : "auto");

  if (mechanism === "X-MESSENGER-OAUTH2") {
    if (!hasTokenSource) {
      throw new ConfigError(
        password ? "XMPP_ACCESS_TOKEN" : "XMPP_PASSWORD",
        "XMPP_PASSWORD (for SCRAM/PLAIN) or a token source for X-MESSENGER-OAUTH2: XMPP_ACCESS_TOKEN, OAUTH_REFRESH_TOKEN, or OAUTH_TOKEN_URL with BOTRUN_TOKEN_STORE",
      );
    }
    if (refreshable && !accessToken) {
      if (!oauth.tokenUrl) throw new ConfigError("OAUTH_TOKEN_URL", "the OAuth token endpoint URL (needed to refresh tokens)");
      if (!oauth.clientId) throw new ConfigError("OAUTH_CLIENT_ID", "the OAuth client id (needed to refresh tokens)");
    }
  } else {
    if (!username) throw new ConfigError("XMPP_USERNAME", `the account name (needed for ${mechanism})`);
    if (!password) throw new ConfigError("XMPP_PASSWORD", `the account password (needed for ${mechanism})`);
  }

  const caFile = str(e, "XMPP_CA_FILE");
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, "utf8");
    } catch (err) {
      throw new ConfigError("XMPP_CA_FILE", `a readable PEM file (${(err as NodeJS.ErrnoException).code ?? "unreadable"})`, caFile);
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) throw new ConfigError("XMPP_CA_FILE", "a PEM file with CERTIFICATE blocks", caFile);
  }

  const dnsRaw = str(e, "XMPP_DNS_SERVER");
  const dnsServers = dnsRaw?.split(",").map((s) => s.trim()).filter(Boolean);
  for (const s of dnsServers ?? []) {
    if (!/^(\d{1,3}(\.\d{1,3}){3}(:\d+)?|\[[0-9a-f:]+\](:\d+)?|[0-9a-f:]+)$/i.test(s)) {
      throw new ConfigError("XMPP_DNS_SERVER", "comma-separated IP addresses, optionally with :port", dnsRaw);
    }
  }

  const tuning: XmppTuning = {
    pingIntervalMs: seconds(e, "XMPP_PING_INTERVAL", DEFAULT_TUNING.pingIntervalMs, 0.05),
    pingTimeoutMs: seconds(e, "XMPP_PING_TIMEOUT", DEFAULT_TUNING.pingTimeoutMs, 0.05),
    smAckTimeoutMs: seconds(e, "XMPP_SM_ACK_TIMEOUT", DEFAULT_TUNING.smAckTimeoutMs, 0.05),
    connectTimeoutMs: seconds(e, "XMPP_CONNECT_TIMEOUT", DEFAULT_TUNING.connectTimeoutMs, 0.1),
    saslTimeoutMs: seconds(e, "XMPP_SASL_TIMEOUT", DEFAULT_TUNING.saslTimeoutMs, 0.1),
    reconnectBaseDelayMs: seconds(e, "XMPP_RECONNECT_BASE_DELAY", DEFAULT_TUNING.reconnectBaseDelayMs, 0),
    reconnectMaxDelayMs: seconds(e, "XMPP_RECONNECT_MAX_DELAY", DEFAULT_TUNING.reconnectMaxDelayMs, 0),
    reconnectStableAfterMs: seconds(e, "XMPP_RECONNECT_STABLE_AFTER", DEFAULT_TUNING.reconnectStableAfterMs, 0),
    startAttempts: int(e, "XMPP_START_ATTEMPTS", DEFAULT_TUNING.startAttempts, 1),
    outboxLimit: int(e, "XMPP_OUTBOX_LIMIT", DEFAULT_TUNING.outboxLimit, 1),
    outboxOverflow: oneOf(e, "XMPP_OUTBOX_OVERFLOW", ["reject", "block"] as const) ?? DEFAULT_TUNING.outboxOverflow,
    stopTimeoutMs: seconds(e, "XMPP_STOP_TIMEOUT", DEFAULT_TUNING.stopTimeoutMs, 0),
    // RFC 6120 §13.12: servers accept stanzas of at least 10000 bytes; a smaller limit only loses replies.
    maxStanzaBytes: e.XMPP_MAX_STANZA_BYTES?.trim() ? int(e, "XMPP_MAX_STANZA_BYTES", 0, 10_000) : undefined,
  };

  return {
    service: serviceUrl ? `${serviceUrl.protocol}//${serviceUrl.host}` : undefined,
    domain,
    username,
    password,
    resource: str(e, "XMPP_RESOURCE"),
    mechanism,
    accessToken,
    caFile,
    ca,
    allowInsecure: insecureOnLoopback(bool(e, "XMPP_ALLOW_INSECURE", false), serviceUrl),
    dnsServers: dnsServers?.length ? dnsServers : undefined,
    oauth,
    tokenStore,
    debug: flags.debug ?? bool(e, "XMPP_DEBUG", false),
    tuning,
  };
}

/** `BOTRUN_VERSION_OS` (any mode, console included): report the OS in XEP-0092 replies; throws ConfigError naming it. */
export function reportVersionOs(env: Env): boolean {
  return bool(env, "BOTRUN_VERSION_OS", false);
}

/** `XMPP_ALLOW_INSECURE` holds for loopback servers only (SRV targets and redirects are checked on connect). */
function insecureOnLoopback(allow: boolean, service: URL | undefined): boolean {
  if (allow && service && !isLoopbackHost(service.hostname)) throw new ConfigError("XMPP_ALLOW_INSECURE", INSECURE_LOOPBACK_ONLY, service.hostname);
  return allow;
}
