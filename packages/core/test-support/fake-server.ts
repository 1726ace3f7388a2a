/** A tiny scripted XMPP server on loopback for offline tests (plain TCP, SASL, bind, ping; not a real server), and a transport started on it. */
import net from "node:net";
import { afterEach } from "vitest";
import { loadConfig } from "../src/config/index.ts";
import { silentLogger, type Logger } from "../src/logger.ts";
import { createXmppTransport, type XmppTransport } from "../src/xmpp/transport.ts";

/** What the fake server saw and how it answers. */
export interface FakeServer {
  port: number;
  /** Every `<auth>` received: mechanism and exact text. */
  auths: { mechanism: string; text: string }[];
  /** Raw inbound bytes of all connections. */
  received: string[];
  connections: number;
  /** Raw inbound text per connection (index 0: connection 1). */
  rawBy: string[];
  /** Ids of the `<message>`s each connection received (index 0: connection 1). */
  messages: string[][];
  /** Drop every open connection (no stream close), as a crashing server would. */
  dropAll(): void;
  /** Write raw XML to connection `n` (1-based). */
  write(n: number, data: string): void;
  /** Read connection `n` again after `stopReadingAfterOnline`. */
  resumeReading(n: number): void;
  close(): Promise<void>;
}

/** Options: mechanisms offered and the SASL verdict per auth. */
export interface FakeServerOptions {
  mechanisms: string[];
  verdict?: (auth: { mechanism: string; text: string }, n: number) => "success" | "not-authorized" | "silent";
  /** Stop answering pings (simulates a black hole after login). */
  blackHoleAfterOnline?: boolean;
  /** Answer the stream header of connection `n` (1-based) with a see-other-host stream error to this host, if any. */
  seeOtherHost?: (n: number) => string | undefined;
  /** Offer XEP-0198 and answer `<enable/>` on connection `n` like this (`silent`: never); `<r/>` is answered with `<a h>`. */
  sm?: (n: number) => "enabled" | "enabled-no-resume" | "failed" | "silent";
  /** After `<enabled/>` on connection `n`, ping the client and drop the connection when the reply arrives. XEP-0198 `<resume/>` always gets `<failed/>`. */
  serverPing?: (n: number) => boolean;
  /** Answer this message on connection `n` with a stream error, then ignore the connection (it stays open). */
  streamErrorOnMessage?: (n: number, id: string) => boolean;
  /** Drop connection `n` instead of handling this message. */
  dropOnMessage?: (n: number, id: string) => boolean;
  /**
   * Refuse stanzas longer than this many bytes as Prosody does past `c2s_stanza_size_limit`: a final
   * XEP-0198 `<a h/>`, a `policy-violation` stream error with `<stanza-too-big/>`, the socket closed.
   */
  refuseOver?: number;
  /** Advertise this XEP-0478 `<max-bytes/>` in the features after authentication. */
  advertiseMaxBytes?: number;
  /** Advertise roster versioning (`urn:xmpp:features:rosterver`, RFC 6121 §2.6.1) in the features after authentication. */
  rosterVer?: boolean;
  /** Answer roster gets (`jabber:iq:roster`) with an empty roster after this many ms (default: never). */
  rosterDelayMs?: number;
  /** Leave XEP-0198 `<r/>` on connection `n` unanswered (a server that stopped acknowledging). */
  ignoreAckRequests?: (n: number) => boolean;
  /** Stop reading connection `n` once it is online (TCP back-pressure on the client's writes). */
  stopReadingAfterOnline?: (n: number) => boolean;
}

export async function startFakeServer(opts: FakeServerOptions): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  const byN = new Map<number, net.Socket>();
  const state: FakeServer = {
    port: 0, auths: [], received: [], connections: 0, messages: [], rawBy: [], dropAll: () => {}, close: async () => {},
    write: (n, data) => void byN.get(n)?.write(data),
    resumeReading: (n) => void byN.get(n)?.resume(),
  };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    const n = ++state.connections;
    byN.set(n, sock);
    const messages: string[] = (state.messages[n - 1] = []);
    state.rawBy[n - 1] = "";
    let handled = 0;
    let buf = "";
    let authed = false;
    let online = false;
    let hung = false;
    const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s${n}' from='localhost' version='1.0'>`;
    const handlers: [RegExp, (m: RegExpMatchArray) => boolean | void][] = [
      [
        /<stream:stream[^>]*>/,
        () => {
          const redirect = authed ? undefined : opts.seeOtherHost?.(n);
          if (redirect) {
            sock.end(`${header}<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>${redirect}</see-other-host></stream:error></stream:stream>`);
            return false;
          }
          const limits = opts.advertiseMaxBytes ? `<limits xmlns='urn:xmpp:stream-limits:0'><max-bytes>${opts.advertiseMaxBytes}</max-bytes></limits>` : "";
          const feats = authed
            ? `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>${opts.sm ? "<sm xmlns='urn:xmpp:sm:3'/>" : ""}${limits}${opts.rosterVer ? "<ver xmlns='urn:xmpp:features:rosterver'/>" : ""}</stream:features>`
            : `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${opts.mechanisms.map((x) => `<mechanism>${x}</mechanism>`).join("")}</mechanisms></stream:features>`;
          sock.write(header + feats);
        },
      ],
      [
        /<auth [^>]*mechanism=["']([^"']+)["'][^>]*>([^<]*)<\/auth>/,
        (m) => {
          const auth = { mechanism: m[1]!, text: m[2]! };
          state.auths.push(auth);
          const v = opts.verdict?.(auth, state.auths.length) ?? "success";
          if (v === "success") {
            authed = true;
            sock.write(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
          } else if (v === "not-authorized") {
            sock.write(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>`);
          }
        },
      ],
      [
        /<iq [^>]*id=["']([^"']+)["'][^>]*>\s*<bind[\s\S]*?<\/iq>/,
        (m) => {
          sock.write(`<iq type='result' id='${m[1]}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>bot@localhost/r${n}</jid></bind></iq>`);
          online = true;
          if (opts.stopReadingAfterOnline?.(n)) sock.pause();
        },
      ],
      [
        /<iq [^>]*id=["']([^"']+)["'][^>]*>\s*<query xmlns=["']jabber:iq:roster["'][^>]*\/>\s*<\/iq>/,
        (m) => {
          handled++;
          if (opts.rosterDelayMs === undefined) return;
          setTimeout(() => sock.write(`<iq type='result' id='${m[1]}'><query xmlns='jabber:iq:roster'/></iq>`), opts.rosterDelayMs);
        },
      ],
      [
        /<iq [^>]*id=["']([^"']+)["'][^>]*>\s*<ping[\s\S]*?<\/iq>/,
        (m) => {
          handled++;
          sock.write(`<iq type='result' id='${m[1]}' from='localhost'/>`);
        },
      ],
      [
        /<enable [^>]*\/>/,
        () => {
          const how = opts.sm?.(n) ?? "silent";
          if (how === "enabled") sock.write(`<enabled xmlns='urn:xmpp:sm:3' id='sm${n}' resume='true'/>`);
          if (how === "enabled" && opts.serverPing?.(n)) sock.write(`<iq type='get' id='srvping${n}' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
          else if (how === "enabled-no-resume") sock.write(`<enabled xmlns='urn:xmpp:sm:3'/>`);
          else if (how === "failed") sock.write(`<failed xmlns='urn:xmpp:sm:3'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`);
        },
      ],
      [/<resume [^>]*\/>/, () => void sock.write(`<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`)],
      [
        /<iq [^>]*id=["']srvping\d+["'][^>]*\/>/,
        () => {
          sock.destroy();
          return false;
        },
      ],
      [/<r xmlns=['"]urn:xmpp:sm:3['"]\/>/, () => void (opts.ignoreAckRequests?.(n) || sock.write(`<a xmlns='urn:xmpp:sm:3' h='${handled}'/>`))],
      [/<a xmlns=['"]urn:xmpp:sm:3['"][^>]*\/>/, () => {}],
      [
        /<message\b[^>]*?(?:\/>|>[\s\S]*?<\/message>)/,
        (m) => {
          const id = m[0].match(/\bid=["']([^"']*)["']/)?.[1] ?? "";
          if (opts.refuseOver !== undefined && Buffer.byteLength(m[0], "utf8") > opts.refuseOver) {
            sock.end(
              `<a xmlns='urn:xmpp:sm:3' h='${handled}'/><stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>` +
                `<stanza-too-big xmlns='urn:xmpp:errors'/></stream:error></stream:stream>`,
            );
            hung = true;
            return false;
          }
          if (opts.streamErrorOnMessage?.(n, id)) {
            sock.write(`<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`);
            hung = true;
            return false;
          }
          if (opts.dropOnMessage?.(n, id)) {
            sock.destroy();
            return false;
          }
          messages.push(id);
          handled++;
        },
      ],
      [/<(?:presence|iq)\b[^>]*?\/>|<(presence|iq)\b[\s\S]*?<\/\1>/, () => void handled++],
      [/<\/stream:stream>/, () => void sock.end("</stream:stream>")],
    ];
    sock.on("data", (d) => {
      const s = d.toString("utf8");
      state.received.push(s);
      state.rawBy[n - 1] += s;
      if ((online && opts.blackHoleAfterOnline) || hung) return;
      buf += s;
      // Handle complete elements in stream order.
      for (;;) {
        let best: { m: RegExpMatchArray; h: (m: RegExpMatchArray) => boolean | void } | undefined;
        for (const [re, h] of handlers) {
          const m = buf.match(re);
          if (m && (!best || m.index! < best.m.index!)) best = { m, h };
        }
        if (!best) break;
        buf = buf.slice(best.m.index! + best.m[0].length);
        if (best.h(best.m) === false) return;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.port = (server.address() as net.AddressInfo).port;
  state.dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  state.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return state;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A fake server and a transport on it (PLAIN as bot/pw, insecure loopback, one start attempt),
 * started; both are stopped after the test. `env` adds or overrides settings.
 */
export async function transportOnFakeServer(
  opts: FakeServerOptions,
  env: Record<string, string> = {},
  logger: Logger = silentLogger,
): Promise<{ server: FakeServer; transport: XmppTransport }> {
  const server = await startFakeServer(opts);
  cleanups.push(() => server.close());
  const config = loadConfig({
    XMPP_SERVICE: `xmpp://127.0.0.1:${server.port}`, XMPP_DOMAIN: "localhost", XMPP_ALLOW_INSECURE: "1", XMPP_START_ATTEMPTS: "1",
    XMPP_RECONNECT_BASE_DELAY: "0.01", XMPP_USERNAME: "bot", XMPP_PASSWORD: "pw", XMPP_MECHANISM: "PLAIN", ...env,
  })!;
  const transport = createXmppTransport({ config, logger });
  cleanups.push(() => transport.stop());
  await transport.start();
  return { server, transport };
}

/** Resolve once `cond()` holds (checked every 10 ms; the test's timeout bounds the wait). */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}
