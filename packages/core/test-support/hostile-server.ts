/**
 * A hostile XMPP server on loopback for offline tests: it logs the client in (any SASL mechanism
 * succeeds, resource binding, no XEP-0198), answers pings and other iqs, and then writes whatever
 * raw bytes the test hands it (undefined entities, absurd nesting, split characters).
 */
import net from "node:net";

/** A running hostile server. */
export interface HostileServer {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Raw text each connection sent (index 0: connection 1). */
  received: string[];
  /** Resolves once connection `n` (1-based) has bound a resource; rejects after `timeoutMs`. */
  bound(n: number, timeoutMs?: number): Promise<void>;
  /** Write raw bytes to connection `n`. */
  write(n: number, data: string | Buffer): void;
  /** Resolves with the first match of `re` in what connection `n` sent; rejects after `timeoutMs`. */
  waitFor(n: number, re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  close(): Promise<void>;
}

const HEADER = (n: number) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='h${n}' from='localhost' version='1.0'>`;

/** Start the server on 127.0.0.1 (a free port). */
export async function startHostileServer(): Promise<HostileServer> {
  const sockets: net.Socket[] = [];
  const received: string[] = [];
  const boundFlags: boolean[] = [];
  const waiters = new Set<() => void>();
  const wake = () => [...waiters].forEach((w) => w());
  const server = net.createServer((sock) => {
    const n = sockets.push(sock);
    received[n - 1] = "";
    sock.on("error", () => {});
    sock.on("close", wake);
    let authed = false;
    let buf = "";
    const rules: [RegExp, (m: RegExpMatchArray) => void][] = [
      [/<stream:stream[^>]*>/, () => void sock.write(HEADER(n) + (authed
        ? "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"
        : "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"))],
      [/<auth [^>]*>[^<]*<\/auth>/, () => {
        authed = true;
        sock.write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
      }],
      [/<iq [^>]*id=["']([^"']+)["'][^>]*>\s*<bind[\s\S]*?<\/iq>/, (m) => {
        sock.write(`<iq type='result' id='${m[1]}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>bot@localhost/r${n}</jid></bind></iq>`);
        boundFlags[n - 1] = true;
      }],
      // Any other iq get/set: an empty result (pings and roster gets included).
      [/<iq [^>]*type=["'](?:get|set)["'][^>]*>[\s\S]*?<\/iq>|<iq [^>]*type=["'](?:get|set)["'][^>]*\/>/, (m) => {
        const attr = (name: string) => m[0].match(new RegExp(`^<iq [^>]*\\b${name}=["']([^"']*)["']`))?.[1];
        // From whom it was addressed to (RFC 6120 §8.1.2.1): none for the account itself (a roster get).
        const to = attr("to");
        sock.write(`<iq type='result' id='${attr("id") ?? ""}'${to ? ` from='${to}'` : ""}/>`);
      }],
      [/<\/stream:stream>/, () => void sock.end("</stream:stream>")],
    ];
    sock.on("data", (d: Buffer) => {
      const s = d.toString("utf8");
      received[n - 1] += s;
      buf += s;
      for (;;) {
        let best: { m: RegExpMatchArray; run: (m: RegExpMatchArray) => void } | undefined;
        for (const [re, run] of rules) {
          const m = buf.match(re);
          if (m && (!best || m.index! < best.m.index!)) best = { m, run };
        }
        if (!best) break;
        buf = buf.slice(best.m.index! + best.m[0].length);
        best.run(best.m);
      }
      wake();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const until = <T>(check: () => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const run = () => {
        const v = check();
        if (v === undefined) return;
        clearTimeout(t);
        waiters.delete(run);
        resolve(v);
      };
      const t = setTimeout(() => {
        waiters.delete(run);
        reject(new Error(`hostile server: timed out waiting for ${what}`));
      }, timeoutMs);
      waiters.add(run);
      run();
    });
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return sockets.length;
    },
    received,
    bound: (n, timeoutMs = 5000) => until(() => (boundFlags[n - 1] ? true : undefined), timeoutMs, `connection ${n} to bind`).then(() => {}),
    write: (n, data) => void sockets[n - 1]?.write(data),
    waitFor: (n, re, timeoutMs = 5000) => until(() => received[n - 1]?.match(re) ?? undefined, timeoutMs, `${re} on connection ${n}`),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
