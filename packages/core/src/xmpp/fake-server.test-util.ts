/** A tiny scripted XMPP server on loopback for offline tests: plain TCP, SASL, bind, ping. Not a real server. */
import net from "node:net";

/** What the fake server saw and how it answers. */
export interface FakeServer {
  port: number;
  /** Every `<auth>` received: mechanism and exact text. */
  auths: { mechanism: string; text: string }[];
  /** Raw inbound bytes of all connections. */
  received: string[];
  connections: number;
  /** Drop every open connection (no stream close), as a crashing server would. */
  dropAll(): void;
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
}

export async function startFakeServer(opts: FakeServerOptions): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  const state: FakeServer = { port: 0, auths: [], received: [], connections: 0, dropAll: () => {}, close: async () => {} };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    const n = ++state.connections;
    let buf = "";
    let authed = false;
    let online = false;
    const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s${n}' from='localhost' version='1.0'>`;
    sock.on("data", (d) => {
      const s = d.toString("utf8");
      state.received.push(s);
      if (online && opts.blackHoleAfterOnline) return;
      buf += s;
      for (;;) {
        let m: RegExpMatchArray | null;
        if ((m = buf.match(/<stream:stream[^>]*>/))) {
          buf = buf.slice(m.index! + m[0].length);
          const redirect = authed ? undefined : opts.seeOtherHost?.(n);
          if (redirect) {
            sock.end(`${header}<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>${redirect}</see-other-host></stream:error></stream:stream>`);
            return;
          }
          const feats = authed
            ? `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`
            : `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${opts.mechanisms.map((x) => `<mechanism>${x}</mechanism>`).join("")}</mechanisms></stream:features>`;
          sock.write(header + feats);
        } else if ((m = buf.match(/<auth [^>]*mechanism=["']([^"']+)["'][^>]*>([^<]*)<\/auth>/))) {
          buf = buf.slice(m.index! + m[0].length);
          const auth = { mechanism: m[1]!, text: m[2]! };
          state.auths.push(auth);
          const v = opts.verdict?.(auth, state.auths.length) ?? "success";
          if (v === "success") {
            authed = true;
            sock.write(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
          } else if (v === "not-authorized") {
            sock.write(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>`);
          }
        } else if ((m = buf.match(/<iq [^>]*id=["']([^"']+)["'][^>]*>\s*<bind[\s\S]*?<\/iq>/))) {
          buf = buf.slice(m.index! + m[0].length);
          sock.write(`<iq type='result' id='${m[1]}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>bot@localhost/r${n}</jid></bind></iq>`);
          online = true;
        } else if ((m = buf.match(/<iq [^>]*id=["']([^"']+)["'][^>]*>\s*<ping[\s\S]*?<\/iq>/))) {
          buf = buf.slice(m.index! + m[0].length);
          sock.write(`<iq type='result' id='${m[1]}' from='localhost'/>`);
        } else if ((m = buf.match(/<\/stream:stream>/))) {
          buf = buf.slice(m.index! + m[0].length);
          sock.end("</stream:stream>");
        } else break;
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
