/** The assembled xmpp.js client on fake sockets, for tests of its inbound path (bytes in, elements and writes out). */
import { EventEmitter } from "node:events";
import type { Element } from "@xmpp/xml";
import { assembleClient, type AssembleOptions } from "../src/xmpp/client.ts";
import { WireParser } from "../src/xmpp/parser.ts";

/** A client as the transport assembles it, never connected. */
export function wiredClient(extra: Partial<AssembleOptions> = {}) {
  const { entity } = assembleClient({
    domain: "localhost",
    tls: { servername: "localhost" },
    sasl: { choose: () => Promise.reject(new Error("unused")), allowInsecure: true, timeoutMs: 1000 },
    timeoutMs: 1000,
    smAckTimeoutMs: 1000,
    ...extra,
  });
  const internal = entity as unknown as { _attachSocket(s: unknown): void; _attachParser(p: unknown): void; Transport: unknown; transports: unknown[] };
  internal.Transport = internal.transports[0]; // what connect() would choose
  const elements: Element[] = [];
  const errors: Error[] = [];
  const written: string[] = [];
  entity.on("element", (el: Element) => void elements.push(el));
  entity.on("error", (e: Error) => void errors.push(e));
  /** Attach a new fake socket and a new stream parser (as a connect does); returns its data feed. */
  const attach = () => {
    const socket = Object.assign(new EventEmitter(), {
      write: (s: string, cb?: () => void) => (written.push(s), cb?.()),
      end: () => {},
    });
    internal._attachSocket(socket);
    internal._attachParser(new WireParser());
    return (chunk: Buffer | string) => socket.emit("data", typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  };
  return { entity, elements, errors, written, attach };
}
