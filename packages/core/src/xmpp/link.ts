/** The state the transport's modules share: where the link is, which connect step, the session's JID, the current logger. */
import type { Logger } from "../logger.ts";
import type { ConnectStep } from "./errors.ts";

/** Where the transport is: `waiting` = offline, a reconnect due; `fatal` = given up. */
export type Phase = "new" | "connecting" | "online" | "waiting" | "stopping" | "stopped" | "fatal";

/** Mutable link state, one per transport, passed by name to each module. */
export interface Link {
  phase: Phase;
  /** The connect step under way (for errors: where it failed). */
  step: ConnectStep;
  /** Connect attempts so far (1 for the first). */
  connections: number;
  /** The bound full JID of the current session, as a string ("" before one). */
  jid: string;
  /** The current connection's logger (carries `conn` and `service`). */
  log: Logger;
  /** `start()` not settled yet: resolved by the first session, rejected on a fatal error or stop. */
  start: { resolve(): void; reject(e: Error): void; attempts: number } | undefined;
}

/** Settle a pending `start()` (once). */
export function settleStart(link: Link, err?: Error): void {
  const s = link.start;
  link.start = undefined;
  if (err) s?.reject(err);
  else s?.resolve();
}

/** The transport is stopping, stopped or gave up: nothing new starts. */
export const isDone = (link: Link): boolean => link.phase === "stopping" || link.phase === "stopped" || link.phase === "fatal";

/** Our bare JID on the current session (for XEP-0359 `<stanza-id by>`). */
export function bareJid(link: Link): string {
  const slash = link.jid.indexOf("/");
  return slash === -1 ? link.jid : link.jid.slice(0, slash);
}
