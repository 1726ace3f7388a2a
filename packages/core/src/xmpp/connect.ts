/**
 * One connect attempt: the services to try (a redirect, `XMPP_SERVICE`, or DNS SRV records with
 * the domain as fallback), then per service TCP, TLS, stream features, SASL and binding (or a
 * XEP-0198 resumption), bounded by `XMPP_CONNECT_TIMEOUT` without progress. Which step is under way
 * is kept in `link.step`, so a failure says where it happened. The outcome is `online` (a new
 * session) or `resumed`.
 */
import type { Logger } from "../logger.ts";
import { PermanentAuthError } from "../auth/types.ts";
import { ConfigError } from "../config/errors.ts";
import type { BotConfig } from "../config/config.ts";
import { INSECURE_LOOPBACK_ONLY, isLoopbackHost } from "../config/loopback.ts";
import type { XmppEntity } from "./client.ts";
import type { StreamManagement } from "./stream-management.ts";
import { classifyError, TransportStoppedError, XmppConnectError } from "./errors.ts";
import { parse } from "./sockets.ts";
import { resolveServices } from "./srv.ts";
import { isDone, type Link } from "./link.ts";
import type { Redirect } from "./redirect.ts";

/** How a connect attempt ended well. */
export type Outcome = "online" | "resumed";

/** Collaborators of `createConnector`. */
export interface ConnectorDeps {
  entity: XmppEntity;
  sm: StreamManagement;
  config: BotConfig;
  link: Link;
  redirect: Redirect;
  /** The transport's root logger (each connection gets a child with `conn` and `service`). */
  logger: Logger;
  /** Leftovers of the previous stream go (xmpp-js-patches.ts `teardown`). */
  teardown(): Promise<void>;
  /** A close of the previous stream is still under way. */
  closing(): boolean;
  random?: () => number;
}

/** Runs connect attempts; while one is under way (`pending`), entity errors and disconnects end it. */
export interface Connector {
  attempt(): Promise<Outcome>;
  readonly pending: boolean;
  /** End the attempt under way with `err` (stop, watchdog). */
  fail(err: Error): void;
  /** Abort the DNS queries under way. */
  abortDns(): void;
}

/** Create the connector; it listens to the entity for the outcome of each attempt. */
export function createConnector(d: ConnectorDeps): Connector {
  const { entity, link, config: cfg } = d;
  let pending: { resolve(o: Outcome): void; reject(e: unknown): void } | undefined;
  let abort: AbortController | undefined;

  entity.on("error", (err: Error) => pending?.reject(err));
  entity.on("disconnect", () => pending?.reject(new XmppConnectError(link.step, `connection closed by the server during ${link.step}`)));
  entity.on("online", () => pending?.resolve("online"));
  d.sm.on("resumed", () => pending?.resolve("resumed"));

  const candidates = async (): Promise<string[]> => {
    if (d.redirect.service) return [d.redirect.service];
    if (cfg.service) return [cfg.service];
    link.step = "DNS";
    abort = new AbortController();
    try {
      return await resolveServices(cfg.domain, { dnsServers: cfg.dnsServers, random: d.random, signal: abort.signal });
    } finally {
      abort = undefined;
    }
  };

  const tryService = async (service: string): Promise<Outcome> => {
    if (entity.socket || entity.parser || d.closing()) await d.teardown();
    if (isDone(link)) throw new TransportStoppedError();
    const host = parse(service)?.host ?? service;
    // SRV targets and redirects are only known here (config.ts checks XMPP_SERVICE).
    if (cfg.allowInsecure && !isLoopbackHost(host)) throw new ConfigError("XMPP_ALLOW_INSECURE", INSECURE_LOOPBACK_ONLY, host);
    const ms = cfg.tuning.connectTimeoutMs;
    link.step = "TCP connect";
    link.log = d.logger.child({ component: "xmpp", conn: link.connections, service });
    entity.options.service = service;
    const outcome = new Promise<Outcome>((resolve, reject) => (pending = { resolve, reject }));
    outcome.catch(() => {});
    const timer = setTimeout(() => pending?.reject(new XmppConnectError(link.step, `no progress within ${ms} ms (XMPP_CONNECT_TIMEOUT)`)), ms);
    try {
      await Promise.race([Promise.resolve().then(() => entity.connect(service)), outcome]);
      if (link.step === "TCP connect") link.step = "stream features";
      await Promise.race([entity.open({ domain: cfg.domain }), outcome]);
      return await outcome;
    } catch (err) {
      // xmpp.js's own waits (stream header, features) time out with an empty message: say what was awaited.
      if ((err as Error)?.name === "TimeoutError" && !(err as Error).message) {
        throw new XmppConnectError(link.step, `no answer from the server within ${entity.timeout} ms`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      pending = undefined;
    }
  };

  return {
    get pending() {
      return pending !== undefined;
    },
    fail(err) {
      pending?.reject(err);
    },
    abortDns() {
      abort?.abort();
    },
    async attempt() {
      const services = await candidates();
      let last: XmppConnectError | undefined;
      for (const [i, service] of services.entries()) {
        if (isDone(link)) throw new TransportStoppedError();
        try {
          return await tryService(service);
        } catch (err) {
          // Stopping, or not a connection problem: no other candidate will do better.
          if (err instanceof TransportStoppedError || err instanceof PermanentAuthError || err instanceof ConfigError) throw err;
          last = classifyError(err, link.step);
          await d.teardown();
          const unreachable = last.step === "TCP connect" || last.step === "DNS";
          if (service === d.redirect.service && unreachable) d.redirect.unreachable();
          if (unreachable && i < services.length - 1) {
            link.log.debug("candidate failed, trying the next", { service, error: last.message });
            continue;
          }
          throw last;
        }
      }
      throw last ?? new XmppConnectError("DNS", "no service to connect to");
    },
  };
}
