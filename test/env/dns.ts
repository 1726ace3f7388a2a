// A local DNS server for SRV tests: Debian's dnsmasq in the foreground on 127.0.0.1 (UDP and TCP)
// on a free high port, answering the given SRV records and A records (127.0.0.1) for their targets.
import { spawn } from "node:child_process";
import { freePort, stopChild, pidAlive } from "./proc.ts";
import { Resolver } from "node:dns/promises";

/** One SRV record, e.g. { name: "_xmpp-client._tcp.example.test", target: "xmpp.example.test", port: 5222 }. */
export interface SrvRecord {
  name: string;
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

/** A running DNS server. */
export interface DnsHandle {
  port: number;
  pid: number;
  /** "127.0.0.1:PORT", for `Resolver.setServers([...])`. */
  server: string;
  stop(): Promise<void>;
}

/** Starts dnsmasq with the given records; resolves once it answers queries. */
export async function startDns(opts: { srv: SrvRecord[]; a?: Record<string, string> }): Promise<DnsHandle> {
  const a: Record<string, string> = { ...opts.a };
  for (const r of opts.srv) a[r.target] ??= "127.0.0.1";
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = [
      "--no-daemon", "--keep-in-foreground", `--port=${port}`, "--listen-address=127.0.0.1", "--bind-interfaces",
      "--no-resolv", "--no-hosts", "--no-poll", "--conf-file=/dev/null", "--pid-file=", "--user=root", "--log-facility=-",
      ...opts.srv.map((r) => `--srv-host=${r.name},${r.target},${r.port},${r.priority ?? 0},${r.weight ?? 0}`),
      ...Object.entries(a).map(([name, ip]) => `--host-record=${name},${ip}`),
    ];
    const child = spawn("dnsmasq", args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr?.on("data", (b: Buffer) => { if (err.length < 4096) err += b.toString(); });
    const handle: DnsHandle = {
      port, pid: child.pid ?? 0, server: `127.0.0.1:${port}`,
      stop: () => stopChild(child, 2000),
    };
    // Ready when a query is answered (bounded); a resolver retries on its own timeout.
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([handle.server]);
    const probe = opts.srv[0]?.name;
    const deadline = Date.now() + 5000;
    let ready = false;
    while (!ready && Date.now() < deadline && pidAlive(child.pid) && child.exitCode === null) {
      try {
        if (probe) await resolver.resolveSrv(probe);
        else await resolver.resolve4(Object.keys(a)[0] ?? "localhost");
        ready = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOTFOUND" || (e as NodeJS.ErrnoException).code === "ENODATA") ready = true;
      }
    }
    if (ready) return handle;
    await handle.stop();
    if (attempt >= 2) throw new Error(`dnsmasq did not start: ${err.slice(0, 1000)}`);
  }
}
