/**
 * Socket classes for xmpp.js connections: plain TCP (`xmpp://`, STARTTLS later) and direct TLS
 * (`xmpps://`). Unlike xmpp.js's own, they pass this connection's TLS options (CA, server name) and
 * set TCP_NODELAY on every socket, including after STARTTLS, and parse with `WireParser`.
 */
import net from "node:net";
import tls from "node:tls";
import { EventEmitter } from "node:events";
import ConnectionTCP from "@xmpp/connection-tcp";
import { WireParser } from "./parser.ts";

/** TLS settings of one connection. */
export interface TlsSettings {
  /** Name the certificate must match (the XMPP domain). */
  servername: string;
  /** Extra trusted CA certificates (PEM). */
  ca?: string;
  /** Called with each socket once connected (tests use it to observe TCP_NODELAY). */
  onSocket?: (socket: net.Socket) => void;
}

/** The options node:tls needs to verify `settings.servername`. */
export function tlsOptions(settings: TlsSettings): tls.ConnectionOptions {
  const isIp = net.isIP(settings.servername) !== 0;
  return {
    ...(isIp ? {} : { servername: settings.servername }),
    host: settings.servername,
    ...(settings.ca ? { ca: settings.ca } : {}),
    rejectUnauthorized: true,
  };
}

/** A TLS socket wrapped the way xmpp.js expects (`secure`, `connect` after the handshake). */
export class TlsSocketWrapper extends EventEmitter {
  readonly secure = true;
  socket: tls.TLSSocket | null = null;
  constructor(private readonly settings: TlsSettings) {
    super();
  }
  /** Direct TLS: `{host, port}` from socketParameters; STARTTLS: `{socket}`. */
  connect(params: { host?: string; port?: number; socket?: net.Socket }): void {
    const opts = tlsOptions(this.settings);
    const s = params.socket
      ? tls.connect({ ...opts, socket: params.socket })
      : tls.connect({ ...opts, host: params.host, port: params.port });
    this.socket = s;
    s.on("secureConnect", () => {
      s.setNoDelay(true);
      this.settings.onSocket?.(s);
      this.emit("connect");
    });
    s.on("data", (d) => this.emit("data", d));
    s.on("error", (e) => this.emit("error", e));
    s.on("close", () => this.emit("close"));
  }
  end(): void {
    this.socket?.end();
  }
  destroy(): void {
    this.socket?.destroy();
  }
  write(data: string, fn?: (err?: Error | null) => void): void {
    if (!this.socket) return fn?.(new Error("socket closed"));
    this.socket.write(data, fn);
  }
}

/** Connection classes (xmpp.js "transports") bound to `settings`. */
export function makeConnectionClasses(settings: TlsSettings): unknown[] {
  class PlainSocket extends net.Socket {
    readonly secure = false;
    constructor() {
      super();
      this.once("connect", () => {
        this.setNoDelay(true);
        settings.onSocket?.(this);
      });
    }
  }
  class Tcp extends ConnectionTCP {
    override socketParameters(service: string) {
      const u = parse(service);
      return u?.protocol === "xmpp:" ? { host: u.host, port: u.port ?? 5222 } : undefined;
    }
  }
  (Tcp.prototype as unknown as { Socket: unknown }).Socket = PlainSocket;
  (Tcp.prototype as unknown as { NS: string }).NS = "jabber:client";
  (Tcp.prototype as unknown as { Parser: unknown }).Parser = WireParser;

  class DirectTls extends ConnectionTCP {
    override socketParameters(service: string) {
      const u = parse(service);
      return u?.protocol === "xmpps:" ? { host: u.host, port: u.port ?? 5223 } : undefined;
    }
  }
  (DirectTls.prototype as unknown as { Socket: unknown }).Socket = class extends TlsSocketWrapper {
    constructor() {
      super(settings);
    }
  };
  (DirectTls.prototype as unknown as { NS: string }).NS = "jabber:client";
  (DirectTls.prototype as unknown as { Parser: unknown }).Parser = WireParser;
  return [Tcp, DirectTls];
}

/** Parse `xmpp://host:port` / `xmpps://[::1]:5223`. */
export function parse(service: string): { protocol: string; host: string; port?: number } | undefined {
  try {
    const u = new URL(service);
    return { protocol: u.protocol, host: u.hostname.replace(/^\[(.*)\]$/, "$1"), port: u.port ? Number(u.port) : undefined };
  } catch {
    return undefined;
  }
}

/** Destroy whatever socket an xmpp.js entity holds (no FIN wait): used on dead connections. */
export function destroySocket(socket: unknown): void {
  const s = socket as { destroy?: () => void } | null;
  s?.destroy?.();
}
