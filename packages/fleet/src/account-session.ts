// One account online on one worker: a BotRuntime over its own XMPP transport, built from the shared settings plus the account's credentials and overrides; every login first re-checks the lease.
import {
  BotRuntime,
  createXmppTransport,
  loadConfig,
  OAuth2TokenEndpoint,
  RefreshingTokenProvider,
  tokenConfigFromEnv,
  WrapTokenEndpoint,
  type Bot,
  type Logger,
  type TokenEndpoint,
} from "@botrun/core";
import type { AccountCredentials } from "./accounts.ts";
import { fleetContext } from "./account-of.ts";
import { FleetTokenStore } from "./token-store.ts";
import { SingleFlightEndpoint, type RefreshCounter } from "./single-flight.ts";
import { SpendGate } from "./spend-gate.ts";
import { SeenFilterTransport } from "./seen-filter.ts";
import type { FleetKeys } from "./keys.ts";
import type { FleetRedis } from "./redis.ts";
import type { SecretBox } from "./secret-box.ts";

/** The resource every login of a fleet account binds (unless XMPP_RESOURCE says otherwise): the server then keeps one session per account. */
export const FLEET_RESOURCE = "botrun";

/** Settings never taken from the shared environment for a fleet account: each account brings its own. */
const PER_ACCOUNT = ["XMPP_USERNAME", "XMPP_PASSWORD", "XMPP_ACCESS_TOKEN", "OAUTH_REFRESH_TOKEN", "BOTRUN_TOKEN_STORE"];

/** What ends a session, told to the worker. */
export type SessionEnd =
  /** The server closed the stream with `<conflict/>`: another session took the resource (RFC 6120 §4.9.3.3). */
  | { kind: "conflict" }
  /** The transport gave up (exit code 3: consent gone; 2: configuration). */
  | { kind: "fatal"; exitCode: number; message: string };

/** Options of `AccountSession`. */
export interface AccountSessionOptions {
  bot: Bot;
  /** The bot's shared settings (environment and .env files). */
  env: NodeJS.ProcessEnv;
  creds: AccountCredentials;
  redis: FleetRedis;
  keys: FleetKeys;
  box: SecretBox;
  logger: Logger;
  /** Before every login (first and reconnects): resolves false if the lease is no longer ours, true once a login slot is granted. */
  beforeLogin: () => Promise<boolean>;
  /** Told once when the session ends on its own (not by `stop()`). */
  onEnd: (end: SessionEnd) => void;
  drainTimeoutMs?: number;
  /** This worker's lease on the account, checked before a refresh token is spent. */
  lease?: () => { value: string; trusted: boolean } | undefined;
  /** See `SingleFlightOptions.abandonMs`. */
  refreshAbandonMs?: number;
  /** The worker's refresh counters (metrics). */
  refreshCounters?: Record<RefreshCounter, number>;
}

/** The environment of one account: shared settings, its overrides, its JID and credentials. */
export function accountEnv(env: NodeJS.ProcessEnv, creds: AccountCredentials): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...env, ...creds.overrides };
  for (const k of PER_ACCOUNT) delete e[k];
  e.XMPP_USERNAME = creds.jid;
  e.XMPP_RESOURCE = creds.overrides.XMPP_RESOURCE ?? env.XMPP_RESOURCE?.trim() ?? FLEET_RESOURCE;
  if (creds.password !== undefined) {
    e.XMPP_PASSWORD = creds.password;
    if (e.XMPP_MECHANISM?.trim().toUpperCase() === "X-MESSENGER-OAUTH2") delete e.XMPP_MECHANISM;
  } else {
    e.XMPP_MECHANISM = "X-MESSENGER-OAUTH2";
    e.BOTRUN_TOKEN_STORE = "fleet"; // tokens come from the account's record in Redis
  }
  return e;
}

/** The token endpoint of the shared OAuth settings (OAUTH_FLAVOR, OAUTH_TOKEN_URL, OAUTH_CLIENT_*). */
function endpointFromEnv(env: NodeJS.ProcessEnv, jid: string, gate: SpendGate): TokenEndpoint {
  const c = tokenConfigFromEnv(env, jid);
  if (c.flavor === "wrap") {
    return new WrapTokenEndpoint({ fetch: gate.fetch, ...(c.tokenUrl && { refreshUrl: c.tokenUrl }), ...(c.clientId && { clientId: c.clientId }), ...(c.clientSecret && { clientSecret: c.clientSecret }) });
  }
  return new OAuth2TokenEndpoint({
    fetch: gate.fetch,
    clientId: c.clientId ?? "",
    ...(c.tokenUrl && { tokenUrl: c.tokenUrl }),
    ...(c.clientSecret && { clientSecret: c.clientSecret }),
    ...(c.clientAuth && { clientAuth: c.clientAuth }),
    ...(c.scope && { scope: c.scope }),
  });
}

/** One account's runtime on this worker. */
export class AccountSession {
  readonly jid: string;
  readonly runtime: BotRuntime;
  readonly endpoint: SingleFlightEndpoint | undefined;
  readonly #provider: RefreshingTokenProvider | undefined;
  #stopping: Promise<void> | undefined;

  /** Build (throws ConfigError naming a setting when the shared settings are wrong). Nothing connects until `start()`. */
  constructor(o: AccountSessionOptions) {
    this.jid = o.creds.jid;
    const env = accountEnv(o.env, o.creds);
    const config = loadConfig(env);
    if (!config) throw new Error("no XMPP server configured (XMPP_SERVICE or XMPP_DOMAIN)");
    const log = o.logger.child({ account: this.jid });
    if (config.mechanism === "X-MESSENGER-OAUTH2") {
      const store = new FleetTokenStore(o.redis, o.keys, o.box, this.jid);
      const gate = new SpendGate();
      this.endpoint = new SingleFlightEndpoint({
        redis: o.redis,
        keys: o.keys,
        jid: this.jid,
        store,
        gate,
        inner: endpointFromEnv(env, this.jid, gate),
        ...(o.lease && { lease: o.lease }),
        ...(o.refreshAbandonMs !== undefined && { abandonMs: o.refreshAbandonMs }),
        ...(o.refreshCounters && { counters: o.refreshCounters }),
      });
      this.#provider = new RefreshingTokenProvider({ endpoint: this.endpoint, store, accountKey: this.jid, botName: o.bot.name, logger: log });
    }
    const transport = createXmppTransport({
      config,
      logger: log,
      ...(this.#provider && { tokenProvider: this.#provider }),
      onBeforeSasl: async () => {
        if (!(await o.beforeLogin())) {
          void this.stop();
          throw new Error(`lease on ${this.jid} is no longer held; not logging in`);
        }
      },
    });
    transport.on("offline", ({ reason }) => {
      // A blind reconnect would kick the other session, which kicks us back, forever: stop here, the worker re-checks the lease.
      if (/\bconflict\b/i.test(reason) && !this.#stopping) {
        void this.stop();
        o.onEnd({ kind: "conflict" });
      }
    });
    transport.on("fatal", ({ error, exitCode }) => {
      void this.stop(exitCode);
      o.onEnd({ kind: "fatal", exitCode, message: error.message });
    });
    const filtered = new SeenFilterTransport(transport, {
      redis: o.redis,
      prefix: o.keys.seen(this.jid),
      onDuplicate: (el) => log.info("dropped a message another session of this account took already", { from: el.attrs.from, id: el.attrs.id }),
    });
    this.runtime = new BotRuntime(o.bot, filtered, { logger: log, context: fleetContext, ...(o.drainTimeoutMs !== undefined && { drainTimeoutMs: o.drainTimeoutMs }) });
  }

  /** Connect; resolves once online (or rejects if the start failed or the session was stopped first). */
  async start(): Promise<void> {
    this.#provider?.start();
    await this.runtime.start();
  }

  /** Unavailable presence, close the stream, stop refreshing. Idempotent. */
  stop(exitCode = 0): Promise<void> {
    this.#stopping ??= (async () => {
      await this.runtime.stop(exitCode).catch(() => undefined);
      await this.#provider?.close().catch(() => undefined);
    })();
    return this.#stopping;
  }
}
