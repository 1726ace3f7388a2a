// A deliberately tiny raw XMPP client for environment tests: a TCP/TLS socket speaking the few XML
// lines of stream setup, STARTTLS, one SASL <auth/> and resource binding, matched with regexes.
// It is independent of botrun and xmpp.js so that it can prove what the server really does.
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { readFileSync } from "node:fs";

/** How to reach the server. */
export interface RawTarget {
  host: string;
  port: number;
  domain: string;
  /** "starttls" upgrades after the first features, "direct" is TLS from the start, "none" stays plain. */
  security: "starttls" | "direct" | "none";
  /** PEM CA file trusted for the server certificate. */
  caFile?: string;
}

/** One raw connection; `buffer` holds unread input. */
export class RawConnection {
  socket: Socket | TLSSocket;
  private buffer = "";
  private waiters = new Set<() => void>();
  /** True once the socket has closed. */
  closed = false;
  /** Resolves when the socket closes. */
  readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(socket: Socket | TLSSocket) {
    this.socket = socket;
    this.closedPromise = new Promise((r) => { this.resolveClosed = r; });
    this.attach(socket);
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => { this.buffer += d; this.wake(); });
    socket.on("error", () => { /* surfaced through close */ });
    socket.on("close", () => { this.closed = true; this.resolveClosed(); this.wake(); });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Writes raw XML text. */
  send(xml: string): void {
    this.socket.write(xml);
  }

  /** Waits until `re` matches the unread input, consumes input up to the end of the match and returns it. */
  waitFor(re: RegExp, timeoutMs = 5000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.buffer);
        if (m) {
          done();
          this.buffer = this.buffer.slice(m.index + m[0].length);
          resolve(m);
        } else if (this.closed) {
          done();
          reject(new Error(`connection closed while waiting for ${re}; unread: ${this.buffer.slice(0, 300)}`));
        }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`timeout waiting for ${re}; unread: ${this.buffer.slice(0, 300)}`)); }, timeoutMs);
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Replaces the socket by a TLS socket over it (STARTTLS). */
  async upgrade(target: RawTarget): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    const secure = tlsConnect({ socket: plain, servername: target.domain, ...tlsTrust(target) });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", resolve);
      secure.once("error", reject);
    });
    this.buffer = "";
    this.socket = secure;
    this.attach(secure);
  }

  /** Opens a stream and returns the text of the <stream:features> element. */
  async openStream(domain: string): Promise<string> {
    this.send(`<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`);
    const m = await this.waitFor(/<stream:features[^>]*?(?:\/>|>([\s\S]*?)<\/stream:features>)/);
    return m[0];
  }

  /** Closes the stream and the socket. */
  close(): void {
    if (this.closed) return;
    try { this.socket.write("</stream:stream>"); } catch { /* already gone */ }
    this.socket.destroy();
  }
}

function tlsTrust(target: RawTarget): { ca?: Buffer } {
  return target.caFile ? { ca: readFileSync(target.caFile) } : {};
}

/** Connects and (with STARTTLS) upgrades; resolves with the connection and the features to authenticate on. */
export async function connectRaw(target: RawTarget): Promise<{ conn: RawConnection; features: string }> {
  const socket = target.security === "direct"
    ? tlsConnect({ host: target.host, port: target.port, servername: target.domain, ...tlsTrust(target) })
    : tcpConnect({ host: target.host, port: target.port });
  await new Promise<void>((resolve, reject) => {
    socket.once(target.security === "direct" ? "secureConnect" : "connect", resolve);
    socket.once("error", reject);
  });
  socket.setNoDelay(true);
  const conn = new RawConnection(socket);
  let features = await conn.openStream(target.domain);
  if (target.security === "starttls") {
    conn.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await conn.waitFor(/<proceed[^>]*\/>/);
    await conn.upgrade(target);
    features = await conn.openStream(target.domain);
  }
  return { conn, features };
}

/** The mechanism names offered in a features text. */
export function offeredMechanisms(features: string): string[] {
  return [...features.matchAll(/<mechanism>([^<]+)<\/mechanism>/g)].map((m) => m[1] ?? "");
}

/** Result of {@link rawLogin}. */
export interface RawLoginResult {
  ok: boolean;
  /** Failure condition (e.g. "not-authorized") when !ok. */
  condition?: string;
  /** Bound full JID when ok. */
  jid?: string;
  /** Still-open connection after a successful login (caller closes it). */
  conn: RawConnection;
  mechanisms: string[];
}

const escapeText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * Logs in with one SASL <auth/> whose element text is `authText` exactly as given (the caller
 * base64-encodes for PLAIN; X-MESSENGER-OAUTH2 sends the raw token), then binds a resource.
 */
export async function rawLogin(target: RawTarget, mechanism: string, authText: string): Promise<RawLoginResult> {
  const { conn, features } = await connectRaw(target);
  const mechanisms = offeredMechanisms(features);
  conn.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='${mechanism}'>${escapeText(authText)}</auth>`);
  const m = await conn.waitFor(/<success[^>]*?(?:\/>|>[\s\S]*?<\/success>)|<failure[^>]*>\s*<([a-z-]+)/);
  if (!m[0].startsWith("<success")) {
    conn.close();
    return { ok: false, condition: m[1], conn, mechanisms };
  }
  await conn.openStream(target.domain);
  conn.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>raw</resource></bind></iq>");
  const b = await conn.waitFor(/<jid>([^<]+)<\/jid>/);
  return { ok: true, jid: b[1], conn, mechanisms };
}

/** base64 of "\0user\0password" for SASL PLAIN. */
export function plainAuthText(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`, "utf8").toString("base64");
}
