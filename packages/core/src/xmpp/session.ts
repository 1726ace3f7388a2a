/**
 * One online session, from `online`/`resumed` to its loss: the keepalive (XEP-0199 pings while
 * idle), initial presence after the runtime's roster get (RFC 6121 §2.2), the outbox attached to
 * this session's wire once XEP-0198 is settled (held while `<enable/>` is unanswered, bounded),
 * what the stream's features say (XEP-0478 size limit, roster versioning), and going offline: on a
 * disconnect, a stream error, unparsable input, or a dead link (the socket is dropped, no FIN wait).
 */
import xml, { type Element } from "@xmpp/xml";
import type { BotConfig } from "../config/config.ts";
import type { TransportEvents } from "../transport.ts";
import { errorText } from "./async-util.ts";
import type { XmppClientParts } from "./client.ts";
import { markInternal } from "./internal-stanzas.ts";
import type { IntakeGate } from "./intake.ts";
import { startKeepalive, type Keepalive } from "./keepalive.ts";
import type { Outbox } from "./outbox.ts";
import { advertisedMaxBytes } from "./stanza-limit.ts";
import { NS_SM } from "./stream-management.ts";
import { destroySocket } from "./sockets.ts";
import { settleStart, type Link } from "./link.ts";
import type { Connector, Outcome } from "./connect.ts";
import type { Reconnect } from "./reconnect.ts";
import { sessionWire, type SizeGuard } from "./wire.ts";

const NS_STREAMS = "http://etherx.jabber.org/streams";
/** RFC 6121 §2.6.1 / XEP-0237: the stream feature saying the server versions the roster. */
const NS_ROSTERVER = "urn:xmpp:features:rosterver";
/** At most this long between `online` and initial presence while the roster get is under way. */
const ROSTER_BEFORE_PRESENCE_MS = 5_000;

type Emit = <K extends "online" | "resumed" | "offline">(event: K, payload: TransportEvents[K]) => void;

/** Collaborators of `createSession`. */
export interface SessionDeps {
  parts: XmppClientParts;
  config: BotConfig;
  link: Link;
  outbox: Outbox;
  intake: IntakeGate;
  size: SizeGuard;
  connector: Connector;
  /** Set after construction (the policy needs the session first). */
  reconnect(): Reconnect;
  /** The runtime's hooks: initial presence, and what to await before it. */
  presence(): Element | undefined;
  beforePresence(): (() => Promise<void>) | undefined;
  emit: Emit;
}

/** The session concern. */
export interface Session {
  up(outcome: Outcome): void;
  /** The link is dead (ping, ack timeout, watchdog): drop the socket without waiting for a FIN. */
  dead(reason: string): void;
  /** XEP-0198 is settled on the current stream (stanzas may flow). */
  readonly settled: boolean;
  /** The latest features offered roster versioning. */
  readonly rosterVersioning: boolean;
  /** The link showed life (the outbox drains while intake is paused): no keepalive ping needed. */
  touch(): void;
  /** Clear the session's timers (stop, fatal). */
  dispose(): void;
}

/** Create the session concern; it listens to the entity from now on. */
export function createSession(d: SessionDeps): Session {
  const { parts, link, outbox } = d;
  const { entity, sm } = parts;
  const t = d.config.tuning;
  let keepalive: Keepalive | undefined;
  let settled = true;
  let rosterVersioning = false;
  let enableTimer: NodeJS.Timeout | undefined;

  const attach = (): void => {
    if (link.phase === "online" && settled) outbox.attach(sessionWire(entity, link, d.size));
  };

  const wentOffline = (reason: string): void => {
    link.phase = "waiting";
    d.intake.reset();
    keepalive?.stop();
    keepalive = undefined;
    clearTimeout(enableTimer);
    d.reconnect().sessionDown();
    outbox.detach();
    link.log.warn("offline", { reason });
    d.emit("offline", { reason });
    d.reconnect().schedule();
  };

  const dead = (reason: string): void => {
    if (link.phase !== "online") return;
    link.log.warn("connection dead", { reason });
    destroySocket(entity.socket);
    // The socket's close event normally reports the disconnect; make sure it happens regardless.
    if (link.phase === "online") setImmediate(() => link.phase === "online" && wentOffline(reason));
  };

  entity.on("error", (err: Error) => {
    if (d.connector.pending || link.phase === "stopping" || link.phase === "stopped") return;
    link.log.warn("connection error", { error: errorText(err) });
    // The stream is over (xmpp.js now waits for the server's close): go offline at once.
    if (err.name === "StreamError") dead(errorText(err));
    // Unparsable input: xmpp.js answers with a stream error and closes our side; once both are
    // written ("closing"), drop the socket rather than wait for a hostile server's close.
    else if (err.name === "XMLError" && link.phase === "online") {
      const reason = `unparsable input from the server (${(err as { condition?: string }).condition ?? "not-well-formed"} stream error sent)`;
      const onClosing = (): void => {
        entity.removeListener("closing", onClosing);
        dead(reason);
      };
      entity.on("closing", onClosing);
    }
  });
  entity.on("disconnect", (info: { reason?: unknown } | undefined) => {
    clearTimeout(enableTimer);
    if (d.connector.pending || link.phase !== "online") return;
    wentOffline(info?.reason ? errorText(info.reason) : "connection closed");
  });
  entity.on("element", () => keepalive?.touch());
  entity.on("nonza", (el: Element) => {
    if (!el.is("features", NS_STREAMS)) return;
    // XEP-0478: the limit may differ before and after authentication; the latest features hold.
    d.size.advertised = advertisedMaxBytes(el);
    // Servers advertise it after authentication (Prosody: only to an authenticated session).
    rosterVersioning = Boolean(el.getChild("ver", NS_ROSTERVER));
    settled = !el.getChild("sm", NS_SM);
  });
  sm.on("settled", () => {
    settled = true;
    clearTimeout(enableTimer);
    attach();
  });

  const announce = (connection: number): void => {
    if (link.connections !== connection || link.phase !== "online") return;
    entity.send(markInternal(d.presence() ?? xml("presence"))).catch(() => {});
  };

  return {
    dead,
    get settled() {
      return settled;
    },
    get rosterVersioning() {
      return rosterVersioning;
    },
    touch() {
      keepalive?.touch();
    },
    dispose() {
      clearTimeout(enableTimer);
      keepalive?.stop();
      keepalive = undefined;
    },
    up(outcome) {
      const jid = entity.jid?.toString() ?? "";
      link.jid = jid; // cached: JID serialisation (with escaping) is costly per stanza
      link.phase = "online";
      d.reconnect().sessionUp();
      link.log.info(outcome === "resumed" ? "session resumed" : "online", { jid });
      keepalive?.stop();
      keepalive = startKeepalive({
        intervalMs: t.pingIntervalMs,
        timeoutMs: t.pingTimeoutMs,
        ping: (ms) => parts.iqRequest(markInternal(xml("iq", { type: "get", to: d.config.domain }, xml("ping", { xmlns: "urn:xmpp:ping" }))), ms),
        onDead: dead,
      });
      if (!settled) {
        // Held until <enabled/> or <failed/>; a server that never answers is dead.
        clearTimeout(enableTimer);
        const ms = Math.min(t.smAckTimeoutMs, t.connectTimeoutMs);
        enableTimer = setTimeout(() => !settled && dead(`no answer to <enable/> within ${ms} ms`), ms);
        enableTimer.unref();
      }
      attach();
      if (outcome === "resumed") {
        d.emit("resumed", { jid });
        return settleStart(link);
      }
      d.emit("online", { jid, resumed: false, rosterVersioning });
      // After `online`: the runtime starts the roster get in its online handler. Initial presence
      // follows it, at most ROSTER_BEFORE_PRESENCE_MS later, and only on this same session;
      // start() resolves once the bot is available (its presence sent).
      const before = d.beforePresence();
      const connection = link.connections;
      if (!before) {
        announce(connection);
        return settleStart(link);
      }
      const started = link.start;
      link.start = undefined;
      let timer: NodeJS.Timeout | undefined;
      const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, ROSTER_BEFORE_PRESENCE_MS)).unref());
      void Promise.race([before().catch(() => {}), cap]).then(() => {
        clearTimeout(timer);
        announce(connection);
        started?.resolve();
      });
    },
  };
}
