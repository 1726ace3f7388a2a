/**
 * How the transport ends: `stop()` within `XMPP_STOP_TIMEOUT` (flush the outbox, unavailable
 * presence, wait for XEP-0198 acks, close the stream; past the budget the socket is dropped and
 * every held stanza is counted in a warning, never dropped silently), and `fatal()` (give up with
 * an exit code: reject `start()` or emit `fatal`).
 */
import xml from "@xmpp/xml";
import type { TransportEvents } from "../transport.ts";
import { errorText, whenTrue, settlesWithin } from "./async-util.ts";
import type { XmppClientParts } from "./client.ts";
import { TransportStoppedError } from "./errors.ts";
import { setSocketReading, type IntakeGate } from "./intake.ts";
import type { Outbox } from "./outbox.ts";
import { endStaleWaits, type Baseline } from "./xmpp-js-patches.ts";
import { isDone, settleStart, type Link } from "./link.ts";
import type { Connector } from "./connect.ts";
import type { Reconnect } from "./reconnect.ts";
import type { Session } from "./session.ts";

/** Collaborators of `createShutdown`. */
export interface ShutdownDeps {
  parts: XmppClientParts;
  link: Link;
  stopTimeoutMs: number;
  outbox: Outbox;
  intake: IntakeGate;
  connector: Connector;
  reconnect: Reconnect;
  session: Session;
  baseline: Baseline;
  teardown(): Promise<void>;
  emit(event: "fatal", payload: TransportEvents["fatal"]): void;
}

/** The two ways out. */
export interface Shutdown {
  stop(): Promise<void>;
  fatal(error: Error, exitCode: number): void;
}

/** Create the shutdown concern. */
export function createShutdown(d: ShutdownDeps): Shutdown {
  const { link, outbox, parts } = d;
  const { entity, sm } = parts;
  let stopping: Promise<void> | undefined;
  /** A wait's listener on the XEP-0198 events that can end it (settled, acked, the stream lost). */
  const onSm = (changed: () => void): (() => void) => {
    for (const e of ["settled", "acked", "lost"] as const) sm.on(e, changed);
    return () => {
      for (const e of ["settled", "acked", "lost"] as const) sm.off(e, changed);
    };
  };

  const stop = async (): Promise<void> => {
    const was = link.phase;
    link.phase = "stopping";
    outbox.close();
    d.intake.reset();
    setSocketReading(entity.socket, true); // acks must get through
    d.reconnect.dispose();
    const deadline = Date.now() + d.stopTimeoutMs;
    const left = (): number => Math.max(0, deadline - Date.now());
    const log = link.log;
    if (was === "online" && entity.status === "online") {
      // The outbox is held while <enable/> is unanswered: give the server a moment, not the whole budget.
      await whenTrue(() => d.session.settled || entity.status !== "online", onSm, Math.min(left(), 2000));
      if (!d.session.settled) log.warn("stop: XEP-0198 <enable/> unanswered; outbox not flushed", { left: outbox.depth });
      else if (!(await outbox.drain(left()))) log.warn("stop: outbox not flushed in time", { left: outbox.depth });
      outbox.detach(); // XMPP_STOP_TIMEOUT is up or everything is out: no further writes start
      await settlesWithin(entity.send(xml("presence", { type: "unavailable" })), left());
      if (sm.enabled && sm.unacked > 0) {
        sm.requestAck();
        log.debug("stop: waiting for the server's XEP-0198 acks", { count: sm.unacked });
        await whenTrue(() => sm.unacked === 0 || !sm.enabled, onSm, left());
        if (sm.unacked) log.warn("stop: stanzas not acknowledged by the server", { count: sm.unacked });
      }
      d.session.dispose();
      // The closing handshake gets what is left, at least 0.5 s: past XMPP_STOP_TIMEOUT the socket is dropped.
      await settlesWithin(entity.stop(), Math.max(left(), 500));
    }
    const stopped = new TransportStoppedError();
    d.connector.fail(stopped);
    d.connector.abortDns();
    d.session.dispose();
    // A connect attempt under way ends at its next step; wait for it so no socket outlives stop().
    await settlesWithin(d.reconnect.attemptDone, left() + 2000);
    await d.teardown();
    d.intake.flush();
    const dropped = outbox.clear();
    if (dropped) log.warn("stop: stanzas never sent", { count: dropped });
    // xmpp.js waits of an interrupted connect (e.g. for the stream header) end now, not at their timeout.
    endStaleWaits(entity, d.baseline, stopped);
    link.phase = "stopped";
    settleStart(link, new TransportStoppedError());
    log.info("stopped");
  };

  return {
    stop() {
      stopping ??= stop();
      return stopping;
    },
    fatal(error, exitCode) {
      if (isDone(link)) return;
      link.phase = "fatal";
      d.reconnect.dispose();
      d.session.dispose();
      outbox.detach();
      link.log.error(errorText(error), { exitCode });
      void d.teardown();
      if (link.start) settleStart(link, Object.assign(error, { exitCode }));
      else d.emit("fatal", { error, exitCode });
    },
  };
}
