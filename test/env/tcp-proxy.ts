// A TCP proxy on 127.0.0.1 for network-failure tests: forwards to a target, and can "blackhole"
// (keep sockets open but stop forwarding bytes both ways) or drop every current connection.
import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/** A running proxy. */
export interface ProxyHandle {
  port: number;
  /** While on, bytes are read and discarded in both directions; connections stay open. New connections are accepted. */
  blackhole(on: boolean): void;
  /** Destroys all current connections (both sides). */
  dropAll(): void;
  /** Number of client connections currently open. */
  connections(): number;
  /** Total bytes forwarded (both directions) since start. */
  readonly bytesForwarded: number;
  stop(): Promise<void>;
}

/** Starts a proxy from 127.0.0.1:(free port) to targetHost:targetPort. */
export async function startProxy(targetHost: string, targetPort: number): Promise<ProxyHandle> {
  let holed = false;
  let forwarded = 0;
  const pairs = new Set<[Socket, Socket]>();

  const pipe = (from: Socket, to: Socket) => {
    from.on("data", (chunk: Buffer) => {
      if (holed) return; // swallowed
      forwarded += chunk.length;
      to.write(chunk);
    });
  };

  const server = createServer((client) => {
    client.setNoDelay(true);
    const upstream = connect({ host: targetHost, port: targetPort });
    upstream.setNoDelay(true);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    pipe(client, upstream);
    pipe(upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const dropAll = () => {
    for (const [a, b] of [...pairs]) { a.destroy(); b.destroy(); }
    pairs.clear();
  };
  return {
    port,
    blackhole(on) { holed = on; },
    dropAll,
    connections: () => pairs.size,
    get bytesForwarded() { return forwarded; },
    async stop() {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
