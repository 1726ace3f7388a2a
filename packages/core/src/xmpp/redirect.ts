/**
 * see-other-host (RFC 6120 §4.9.3.19): the server names another host; this and later connects go
 * there. The reconnect it calls for is immediate, not a failure, up to `MAX_REDIRECTS` in a row
 * (then they count as failed attempts: no redirect loop). A redirect target that cannot be
 * reached is forgotten (back to DNS or `XMPP_SERVICE`).
 */
import type { Logger } from "../logger.ts";
import { parse } from "./sockets.ts";

/** Consecutive see-other-host redirects followed at once before they count as failed attempts. */
export const MAX_REDIRECTS = 5;

/** The redirect state of one transport. */
export interface Redirect {
  /** The service redirected to, if any. */
  readonly service: string | undefined;
  /** The server redirected us: called with `<see-other-host/>`'s text (host, host:port, IPv6). */
  redirected(host: string, current: string | undefined, log: Logger): void;
  /** A redirect arrived and its reconnect is not scheduled yet: true once (then false). */
  takeImmediate(): boolean;
  /** The redirect arrived and asks for an immediate reconnect (without consuming it). */
  readonly pending: boolean;
  /** The redirect target could not be reached: forget it. */
  unreachable(): void;
  /** A session is up: the hop count starts again. */
  settled(): void;
}

/** Create the redirect state. */
export function createRedirect(): Redirect {
  let service: string | undefined;
  let pending = false;
  let hops = 0;
  return {
    get service() {
      return service;
    },
    get pending() {
      return pending;
    },
    redirected(host, current, log) {
      const proto = parse(service ?? current ?? "xmpp://x")?.protocol ?? "xmpp:";
      service = /:\d+$|^\[.*\]:\d+$/.test(host) ? `${proto}//${host}` : `${proto}//${host.includes(":") ? `[${host}]` : host}`;
      pending = ++hops <= MAX_REDIRECTS;
      log.info("server redirects (see-other-host)", { service });
    },
    takeImmediate() {
      const p = pending;
      pending = false;
      return p;
    },
    unreachable() {
      service = undefined;
    },
    settled() {
      hops = 0;
    },
  };
}
