/**
 * A plain @xmpp/client (xmpp.js 0.14, not botrun's transport) for tests and benchmarks: logs in
 * with a password over direct TLS trusting a test CA, sets TCP_NODELAY on every socket, keeps
 * xmpp.js's own reconnect (fixed 1 s) and XEP-0198. Used as an independent peer and as the raw
 * echo bot of the benchmark.
 */
import { readFileSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import { client, xml, type Client } from "@xmpp/client";

/** Options of `startRawClient`. */
export interface RawClientOptions {
  host: string;
  /** Direct TLS port (`c2s_direct_tls_ports`). */
  directTlsPort: number;
  domain: string;
  username: string;
  password: string;
  /** PEM file trusted for the server certificate. */
  caFile: string;
  resource?: string;
  /** Set TCP_NODELAY on each socket (default true). */
  noDelay?: boolean;
}

/** A started raw client; `online` waits for the session (initial or after a reconnect). */
export interface RawClient {
  xmpp: Client;
  jid(): string;
  /** Resolves when the client is online (now or after the next `online`/`resumed`), rejects after `timeoutMs`. */
  online(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

type ConnClass = new (...args: unknown[]) => { socketParameters(service: string): unknown };

/** Create, wire and start a raw @xmpp/client; resolves once online. */
export async function startRawClient(o: RawClientOptions): Promise<RawClient> {
  const ca = readFileSync(o.caFile);
  const xmpp = client({
    service: `xmpps://${o.host}:${o.directTlsPort}`,
    domain: o.domain,
    username: o.username,
    password: o.password,
    ...(o.resource ? { resource: o.resource } : {}),
  });
  // xmpp.js passes no TLS options: subclass its direct-TLS connection to add our CA and server name.
  const entity = xmpp as unknown as { transports: ConnClass[] };
  const Tls = entity.transports.find((t) => t.name === "ConnectionTLS");
  if (!Tls) throw new Error("@xmpp/client has no ConnectionTLS transport");
  class TrustedTls extends Tls {
    override socketParameters(service: string) {
      const p = super.socketParameters(service) as object | undefined;
      return p && { ...p, ca, servername: o.domain };
    }
  }
  entity.transports = [TrustedTls];
  xmpp.on("error", () => {});
  if (o.noDelay !== false) {
    xmpp.on("connect", () => {
      const wrapper = (xmpp as unknown as { socket?: { socket?: TLSSocket } }).socket;
      wrapper?.socket?.setNoDelay(true);
    });
  }
  const sm = (xmpp as unknown as { streamManagement: { on(e: string, f: () => void): void } }).streamManagement;
  const onlineWaiters = new Set<() => void>();
  const wake = () => onlineWaiters.forEach((w) => w());
  // Available presence on every new session, so messages to the bare JID reach this resource.
  xmpp.on("online", () => {
    xmpp.send(xml("presence")).catch(() => {});
    wake();
  });
  sm.on("resumed", wake);
  // xmpp.js waits 2 s for the stream header by default: too tight for a Prosody busy with other
  // suites on a 2-core machine. On failure, stop its reconnect so nothing outlives the test.
  (xmpp as unknown as { timeout: number }).timeout = 15_000;
  try {
    await xmpp.start();
  } catch (err) {
    (xmpp as unknown as { reconnect?: { stop(): void } }).reconnect?.stop();
    await xmpp.stop().catch(() => {});
    throw err;
  }
  return {
    xmpp,
    jid: () => xmpp.jid?.toString() ?? "",
    online(timeoutMs = 20_000) {
      if (xmpp.status === "online") return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          onlineWaiters.delete(done);
          reject(new Error(`raw client not online within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(t);
          onlineWaiters.delete(done);
          resolve();
        };
        onlineWaiters.add(done);
      });
    },
    async stop() {
      // No reconnect after this (xmpp.js's fixed-delay reconnect would revive a stopped client).
      (xmpp as unknown as { reconnect?: { stop(): void } }).reconnect?.stop();
      const stopped = await Promise.race([xmpp.stop().then(() => true, () => true), new Promise<false>((r) => setTimeout(() => r(false), 3000))]);
      if (!stopped) (xmpp as unknown as { socket?: { socket?: TLSSocket } }).socket?.socket?.destroy();
    },
  };
}
