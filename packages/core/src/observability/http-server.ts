/**
 * The health and metrics HTTP endpoint: `/healthz` (the process is alive: 200), `/readyz`
 * (200 when every bot is online, else 503; JSON body per bot) and `/metrics` (Prometheus text).
 * Opt-in (`--http-port` / `BOTRUN_HTTP_PORT`), bound to 127.0.0.1 unless `BOTRUN_HTTP_HOST` says otherwise.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ServiceMetrics } from "./metrics.ts";

/** Options of `startHttpEndpoint`. */
export interface HttpEndpointOptions {
  metrics: ServiceMetrics;
  /** Port; 0 picks a free one. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
}

/** A running endpoint. */
export interface HttpEndpoint {
  /** e.g. `http://127.0.0.1:9464` */
  readonly url: string;
  readonly port: number;
  /** Stop listening and close open connections. */
  close(): Promise<void>;
}

/** Start the endpoint; rejects when the port cannot be bound. */
export async function startHttpEndpoint(opts: HttpEndpointOptions): Promise<HttpEndpoint> {
  const { metrics } = opts;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("ok\n");
    } else if (path === "/readyz") {
      const ready = metrics.ready;
      const body = JSON.stringify({ ready, bots: metrics.status() }) + "\n";
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" }).end(body);
    } else if (path === "/metrics") {
      metrics.metrics().then(
        (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
        () => res.writeHead(500, { "content-type": "text/plain" }).end("metrics collection failed\n"),
      );
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /healthz, /readyz or /metrics\n");
    }
  });
  server.keepAliveTimeout = 5000;
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
