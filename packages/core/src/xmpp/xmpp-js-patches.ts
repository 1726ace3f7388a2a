/**
 * Every place botrun reaches into xmpp.js 0.14 internals, each naming the behaviour it works around
 * (see /work/shared/docs/protocol-notes.md, "xmpp.js 0.14 internals"). Nothing else in xmpp/
 * replaces an xmpp.js method or removes its listeners; the plugins we register through its public
 * extension points (transports, stream features, middleware) are not patches.
 *
 * 1. `_onData` / `_attachSocket` (stream-decoder.ts): xmpp.js decodes each socket chunk on its own,
 *    so a UTF-8 character split across two reads became two U+FFFD.
 * 2. `_streamError` (parser.ts `specificStreamErrors`): xmpp.js answers every parser error with
 *    `<bad-format/>`; RFC 6120 §4.9.3.1 wants the specific condition.
 * 3. `_onSeeOtherHost` (`onSeeOtherHost`): xmpp.js reconnects to the new host by itself, outside
 *    our loop (no backoff, no redirect bound, no teardown), and does not keep the new service.
 * 4. `disconnect` (`trackClose`): on a stream error xmpp.js calls `disconnect()`, which waits for the
 *    peer's `</stream:stream>` and then closes `this.socket`: by then possibly the next connection's.
 *    We remember the close under way and end it before attaching a new socket (`teardown`).
 * 5. Leftover `nonza` listeners (`teardown`): `procedure()` (e.g. `<enable/>`, SASL) has no timeout
 *    and no cancel, so a dead stream's procedure would answer the next stream's nonzas.
 * 6. The parser's `end` and `_detachParser` (`teardown`): a dead socket leaves xmpp.js waiting for
 *    the stream footer and the old parser attached.
 * 7. Leftover `error` listeners (`endStaleWaits`): xmpp.js's waits (`promise(entity, ev, "error",
 *    timeout)`) of an interrupted connect hold timers that keep the process alive until they expire.
 * 8. `_ready(true)` (stream-management.ts): how xmpp.js marks a resumed session online (no event).
 */
import type { Element } from "@xmpp/xml";
import { decodeInboundAsStream, type DecodingEntity } from "./stream-decoder.ts";
import { specificStreamErrors } from "./parser.ts";
import { destroySocket } from "./sockets.ts";
import { settlesWithin } from "./async-util.ts";
import type { XmppEntity } from "./client.ts";

/** Patches 1 and 2: install before the first `connect()`. */
export function patchInbound(entity: XmppEntity): void {
  decodeInboundAsStream(entity as unknown as DecodingEntity);
  specificStreamErrors(entity as unknown as Parameters<typeof specificStreamErrors>[0]);
}

/** Patch 3: a see-other-host stream error only tells `onRedirect` the new host; the stream error then closes the stream. */
export function onSeeOtherHost(entity: XmppEntity, onRedirect: (host: string) => void): void {
  entity._onSeeOtherHost = (error: { element: Element }) => onRedirect(error.element.getChildText("see-other-host") ?? "");
}

/** Patch 4: `closing()` is xmpp.js's `disconnect()` under way, if any. */
export function trackClose(entity: XmppEntity): { closing(): Promise<unknown> | undefined } {
  let closing: Promise<unknown> | undefined;
  const disconnect = entity.disconnect.bind(entity);
  entity.disconnect = () => {
    const p = disconnect();
    closing = p;
    const done = (): void => {
      if (closing === p) closing = undefined;
    };
    p.then(done, done);
    return p;
  };
  return { closing: () => closing };
}

/** What `teardown` and `endStaleWaits` need to know about a fresh entity. */
export interface Baseline {
  /** Listeners present on a fresh entity (ours, the debug trace's): all others are xmpp.js waits. */
  readonly nonza: ReadonlySet<unknown>;
  readonly error: ReadonlySet<unknown>;
}

/** The listeners of a freshly assembled entity (call once all of ours are registered). */
export function baseline(entity: XmppEntity): Baseline {
  return { nonza: new Set(entity.listeners("nonza")), error: new Set(entity.listeners("error")) };
}

/** Patches 4–6: whatever is left of the previous stream (socket, parser, close under way, procedures) goes. */
export async function teardown(entity: XmppEntity, base: Baseline, close: { closing(): Promise<unknown> | undefined }): Promise<void> {
  for (const l of entity.listeners("nonza")) if (!base.nonza.has(l)) entity.removeListener("nonza", l);
  if (entity.socket) {
    const closed = new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        entity.removeListener("disconnect", done);
        resolve();
      };
      const t = setTimeout(done, 2000);
      entity.on("disconnect", done);
    });
    destroySocket(entity.socket);
    await closed;
  }
  const closing = close.closing();
  if (closing) {
    // disconnect() may be waiting for the peer's </stream:stream>: the socket is gone, so end that
    // wait now; it then finds no socket and finishes without touching the next one.
    (entity.parser as { emit?: (e: string) => void } | null)?.emit?.("end");
    await settlesWithin(closing, entity.timeout + 1000);
  }
  entity._detachParser();
}

/** Patch 7: end xmpp.js's waits of an interrupted connect now (not via `emit`: no debug line), then drop every listener. */
export function endStaleWaits(entity: XmppEntity, base: Baseline, reason: Error): void {
  for (const l of entity.listeners("error")) if (!base.error.has(l)) (l as (e: Error) => void)(reason);
  entity.removeAllListeners();
  entity.on("error", () => {});
}
