// The worker's health and metrics endpoint (--http-port / BOTRUN_HTTP_PORT): /healthz, /readyz and /metrics in the Prometheus text format, with the fleet's own numbers.
import { createServer } from "node:http";
import type { RefreshCounter } from "./single-flight.ts";
import type { AddressInfo } from "node:net";

/** What the endpoint reads from the worker. */
export interface FleetStatus {
  worker: string;
  /** Accounts online here. */
  owned: number;
  /** Leases held (online or coming online). */
  leases: number;
  /** Round trip of the last lease renewal, ms. */
  renewLatencyMs: number;
  redisUp: boolean;
  counters: Readonly<Record<"takeovers" | "handoffs" | "fenced" | "lost" | "conflicts" | "consent" | "handled" | "sent" | RefreshCounter, number>>;
}

/** A listening endpoint. */
export interface FleetHttp {
  readonly url: string;
  close(): Promise<void>;
}

const HELP: Record<keyof FleetStatus["counters"], string> = {
  takeovers: "Accounts this worker took (lease acquired, session started).",
  handoffs: "Accounts this worker handed off (session closed, then lease released).",
  fenced: "Accounts dropped by self-fencing (no lease renewal got through within 2/3 TTL).",
  lost: "Accounts dropped because their lease was lost or untrusted.",
  conflicts: "Sessions replaced by another login (conflict stream error); never reconnected blindly.",
  consent: "Accounts stopped because their consent is gone (invalid_grant) or their password was rejected.",
  handled: "Inbound stanzas handled by this worker's accounts.",
  sent: "Stanzas sent by this worker's accounts.",
  refreshes: "Token refresh requests sent (each spends one stored refresh token).",
  refresh_waits: "Refreshes that found another worker's spend of the same refresh token in flight and waited.",
  refresh_takeovers: "In-flight marks taken over: their holder's process was gone, or the mark was abandoned.",
  refresh_unsent: "Refreshes not sent at the last check (lease no longer trusted, or the mark too old).",
};

/** The Prometheus text exposition of `s`. */
export function fleetMetricsText(s: FleetStatus): string {
  const l = `{worker=${JSON.stringify(s.worker)}}`;
  const lines: string[] = [];
  const gauge = (name: string, help: string, v: number) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}${l} ${v}`);
  gauge("botrun_fleet_accounts_owned", "Accounts online on this worker.", s.owned);
  gauge("botrun_fleet_leases_held", "Account leases this worker holds.", s.leases);
  gauge("botrun_fleet_lease_renewal_seconds", "Round trip of the last batch lease renewal.", s.renewLatencyMs / 1000);
  gauge("botrun_fleet_redis_up", "1 while the last round reached Redis.", s.redisUp ? 1 : 0);
  for (const [k, help] of Object.entries(HELP) as [keyof FleetStatus["counters"], string][]) {
    const name = `botrun_fleet_${k}_total`;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name}${l} ${s.counters[k]}`);
  }
  return lines.join("\n") + "\n";
}

/** Serve /healthz (200 while the process runs), /readyz (200 while Redis is reachable) and /metrics. */
export async function startFleetHttp(status: () => FleetStatus, port: number, host = "127.0.0.1"): Promise<FleetHttp> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405, { allow: "GET, HEAD" }).end();
    const s = status();
    if (path === "/healthz") res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("ok\n");
    else if (path === "/readyz") {
      res.writeHead(s.redisUp ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify({ ready: s.redisUp, ...s }) + "\n");
    } else if (path === "/metrics") res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(fleetMetricsText(s));
    else res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /healthz, /readyz or /metrics\n");
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
