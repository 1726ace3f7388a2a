/**
 * Service discovery (RFC 6120 §3.2, XEP-0368): SRV records for direct TLS (`_xmpps-client._tcp`)
 * and STARTTLS (`_xmpp-client._tcp`), ordered by priority then weighted random; fallback DOMAIN:5222.
 */
import { Resolver } from "node:dns/promises";
import type { SrvRecord } from "node:dns";

/** Options of `resolveServices`. */
export interface SrvOptions {
  /** DNS servers (`ip` or `ip:port`); default: the system's. */
  dnsServers?: string[];
  /** Per-query timeout in ms. */
  timeoutMs?: number;
  random?: () => number;
  /** Aborting cancels the queries at once (the fallback is returned). */
  signal?: AbortSignal;
}

/**
 * Order SRV records: ascending priority; within one priority, RFC 2782 weighted random selection.
 * A single "." target means the service is not offered: empty list.
 */
export function orderSrv(records: readonly SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  if (records.length === 1 && (records[0]!.name === "." || records[0]!.name === "")) return [];
  const byPrio = new Map<number, SrvRecord[]>();
  for (const r of records) byPrio.set(r.priority, [...(byPrio.get(r.priority) ?? []), r]);
  const out: SrvRecord[] = [];
  for (const prio of [...byPrio.keys()].sort((a, b) => a - b)) {
    // zero-weight records first, as RFC 2782 suggests, so they get a small chance
    const pool = [...byPrio.get(prio)!].sort((a, b) => a.weight - b.weight);
    while (pool.length) {
      const total = pool.reduce((s, r) => s + r.weight, 0);
      let pick = 0;
      if (total > 0) {
        let x = random() * total;
        pick = pool.findIndex((r) => (x -= r.weight) < 0);
        if (pick < 0) pick = pool.length - 1;
      }
      out.push(pool.splice(pick, 1)[0]!);
    }
  }
  return out;
}

/** Format a host for a service URI (brackets for IPv6). */
function hostPort(name: string, port: number): string {
  const host = name.replace(/\.$/, "");
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Candidate service URIs for `domain`, best first: direct TLS and STARTTLS SRV targets merged by
 * priority (direct TLS first on ties), then `xmpp://domain:5222` as the last resort.
 */
export async function resolveServices(domain: string, opts: SrvOptions = {}): Promise<string[]> {
  const resolver = new Resolver({ timeout: opts.timeoutMs ?? 3000, tries: 2 });
  if (opts.dnsServers?.length) resolver.setServers(opts.dnsServers);
  const cancel = () => resolver.cancel();
  opts.signal?.addEventListener("abort", cancel, { once: true });
  const query = async (name: string): Promise<SrvRecord[]> => {
    try {
      return orderSrv(await resolver.resolveSrv(name), opts.random);
    } catch {
      return [];
    }
  };
  const [tls, tcp] = opts.signal?.aborted
    ? [[], []]
    : await Promise.all([query(`_xmpps-client._tcp.${domain}`), query(`_xmpp-client._tcp.${domain}`)]);
  opts.signal?.removeEventListener("abort", cancel);
  const merged = [
    ...tls.map((r, i) => ({ r, i, uri: `xmpps://${hostPort(r.name, r.port)}`, tls: 0 })),
    ...tcp.map((r, i) => ({ r, i, uri: `xmpp://${hostPort(r.name, r.port)}`, tls: 1 })),
  ].sort((a, b) => a.r.priority - b.r.priority || a.tls - b.tls || a.i - b.i);
  const uris = merged.map((m) => m.uri);
  const fallback = `xmpp://${hostPort(domain, 5222)}`;
  if (!uris.includes(fallback)) uris.push(fallback);
  return uris;
}
