/**
 * The reconnect policy: runs connect attempts, decides what a failure means (fatal with an exit
 * code, retry at once after a see-other-host or a rejected token, or retry after a full-jitter
 * backoff), resets the backoff once a session has stayed up for `XMPP_RECONNECT_STABLE_AFTER`,
 * and a 1 s watchdog that catches what no event reported: a session lost silently, a reconnect
 * never scheduled, a connect attempt stuck past its budget.
 */
import { ExitCode } from "../exit-codes.ts";
import { PermanentAuthError } from "../auth/types.ts";
import { ConfigError } from "../config/errors.ts";
import type { BotConfig } from "../config/config.ts";
import type { TransportEvents } from "../transport.ts";
import type { XmppEntity } from "./client.ts";
import { backoffDelay } from "./backoff.ts";
import { classifyError, XmppAuthError, XmppConnectError } from "./errors.ts";
import { destroySocket } from "./sockets.ts";
import { isDone, type Link } from "./link.ts";
import type { Connector, Outcome } from "./connect.ts";
import type { Redirect } from "./redirect.ts";
import type { SaslChooser } from "./sasl-choice.ts";

/** SASL conditions (RFC 6120 §6.5) no retry can fix. */
const PERMANENT_SASL = new Set([
  "account-disabled",
  "credentials-expired",
  "encryption-required",
  "invalid-authzid",
  "invalid-mechanism",
  "malformed-request",
  "mechanism-too-weak",
  "not-authorized",
]);

/** Collaborators of `createReconnect`. */
export interface ReconnectDeps {
  entity: XmppEntity;
  config: BotConfig;
  link: Link;
  connector: Connector;
  redirect: Redirect;
  sasl: SaslChooser;
  /** A token provider is configured (a rejected token is refreshed and retried once). */
  hasTokenProvider: boolean;
  teardown(): Promise<void>;
  /** An attempt succeeded. */
  onUp(outcome: Outcome): void;
  /** Give up for good. */
  onFatal(error: Error, exitCode: number): void;
  /** The online session was lost without an event (watchdog). */
  onLost(reason: string): void;
  emit(event: "reconnecting", payload: TransportEvents["reconnecting"]): void;
  random?: () => number;
}

/** The running policy. */
export interface Reconnect {
  /** Start the first attempt and the watchdog. */
  begin(): void;
  /** Schedule the next attempt (the session went offline). */
  schedule(immediate?: boolean): void;
  /** A session is up: the backoff resets once it has lasted. */
  sessionUp(): void;
  sessionDown(): void;
  /** Settles when the attempt under way has ended (stop waits for it). */
  readonly attemptDone: Promise<void>;
  /** Clear every timer. */
  dispose(): void;
}

/** Create the reconnect policy. */
export function createReconnect(d: ReconnectDeps): Reconnect {
  const { link } = d;
  const t = d.config.tuning;
  let failures = 0;
  let attempting = false;
  let attemptStarted = 0;
  let attemptDone: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stable: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let retriedAuth = false;

  const run = async (): Promise<void> => {
    if (attempting || isDone(link)) return;
    attempting = true;
    attemptStarted = Date.now();
    link.phase = "connecting";
    link.connections++;
    let ended!: () => void;
    attemptDone = new Promise<void>((r) => (ended = r));
    try {
      const outcome = await d.connector.attempt();
      attempting = false;
      if (!isDone(link)) d.onUp(outcome);
    } catch (err) {
      attempting = false;
      await d.teardown();
      if (!isDone(link)) failed(err);
    } finally {
      ended();
    }
  };

  const schedule = (immediate = false): void => {
    if (isDone(link) || timer || attempting) return;
    if (d.redirect.takeImmediate()) immediate = true;
    failures++;
    const delayMs = immediate ? 0 : backoffDelay(failures, { baseMs: t.reconnectBaseDelayMs, maxMs: t.reconnectMaxDelayMs, random: d.random });
    link.phase = "waiting";
    d.emit("reconnecting", { attempt: failures, delayMs });
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, delayMs);
  };

  const failed = (err: unknown): void => {
    if (err instanceof PermanentAuthError) {
      return d.onFatal(new XmppAuthError(`token provider: ${err.message} (${err.code}); run \`botrun auth\` to renew consent`, err.code), ExitCode.REAUTH);
    }
    // A token provider's configuration error (no refresh token yet, unreadable token store): retrying cannot help.
    if (err instanceof ConfigError) return d.onFatal(err, ExitCode.CONFIG);
    const e = classifyError(err, link.step);
    if (e instanceof XmppAuthError) {
      const cond = e.condition ?? "";
      const token = d.sasl.chosen === "X-MESSENGER-OAUTH2";
      if (cond === "not-authorized" && token && d.hasTokenProvider && !retriedAuth) {
        retriedAuth = true;
        d.sasl.forceRefresh();
        link.log.warn("access token rejected; refreshing it and retrying once");
        return schedule(true);
      }
      if (e.exitCode === ExitCode.CONFIG) return d.onFatal(e, ExitCode.CONFIG);
      if (PERMANENT_SASL.has(cond)) {
        const hint = token ? "the access token was rejected; run `botrun auth` to renew consent" : "check XMPP_USERNAME and XMPP_PASSWORD";
        return d.onFatal(new XmppAuthError(`${e.message.replace(/^SASL: /, "")}; ${hint}`, cond), ExitCode.REAUTH);
      }
    } else if (e.exitCode === ExitCode.CONFIG) {
      return d.onFatal(e, ExitCode.CONFIG);
    }
    // Redirected: not a failure; go to the new host at once (this attempt only).
    if (d.redirect.pending) return schedule(true);
    if (link.start && ++link.start.attempts >= t.startAttempts) return d.onFatal(e, ExitCode.UNAVAILABLE);
    link.log.warn("connect failed", { step: e.step, error: e.message });
    schedule();
  };

  const check = (): void => {
    if (isDone(link) || link.phase === "new") return;
    const { entity } = d;
    if (link.phase === "online" && (entity.status !== "online" || !entity.socket)) {
      // E.g. xmpp.js closing the stream after a stream error: drop the socket now, the close reports it.
      link.log.warn("watchdog: session lost without a disconnect event", { status: entity.status });
      return d.onLost("connection lost");
    }
    if (link.phase === "waiting" && !timer && !attempting) {
      link.log.warn("watchdog: no reconnect scheduled, scheduling one");
      return schedule();
    }
    if (attempting && Date.now() - attemptStarted > t.connectTimeoutMs + t.saslTimeoutMs + 5000) {
      link.log.warn("watchdog: connect attempt stuck, aborting it");
      d.connector.fail(new XmppConnectError(link.step, "connect attempt stuck"));
      destroySocket(entity.socket);
    }
  };

  return {
    get attemptDone() {
      return attemptDone;
    },
    begin() {
      watchdog = setInterval(check, 1000);
      watchdog.unref();
      void run();
    },
    schedule,
    sessionUp() {
      retriedAuth = false;
      d.redirect.settled();
      clearTimeout(stable);
      stable = setTimeout(() => (failures = 0), t.reconnectStableAfterMs);
      stable.unref();
    },
    sessionDown() {
      clearTimeout(stable);
    },
    dispose() {
      clearTimeout(timer);
      timer = undefined;
      clearTimeout(stable);
      clearInterval(watchdog);
    },
  };
}
