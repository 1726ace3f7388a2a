/**
 * Inbound bytes decoded as one UTF-8 stream per socket. xmpp.js 0.14 decodes each socket chunk on
 * its own (`data.toString("utf8")`), so a character split across two reads became two U+FFFD.
 * This replaces the entity's data handler for every socket kind (plain TCP, after STARTTLS, direct
 * TLS): the decoder carries a partial character into the next chunk and starts afresh with each
 * socket xmpp.js attaches (a new connection, the TLS socket after STARTTLS).
 */
import { StringDecoder } from "node:string_decoder";

/** The part of an xmpp.js entity this changes. */
export interface DecodingEntity {
  parser: unknown;
  _attachSocket(socket: unknown): void;
  _onData(data: Buffer | string): void;
}

/** Install stream decoding on `entity`; call before its first `connect()` (xmpp.js binds `_onData` once). */
export function decodeInboundAsStream(entity: DecodingEntity): void {
  let decoder = new StringDecoder("utf8");
  const attach = entity._attachSocket.bind(entity);
  entity._attachSocket = (socket) => {
    decoder = new StringDecoder("utf8");
    attach(socket);
  };
  entity._onData = (data) => {
    const text = typeof data === "string" ? data : decoder.write(data);
    // No parser: the stream is over (e.g. after a parse error) and the socket not yet closed.
    const parser = entity.parser as { write(s: string): void } | null;
    if (text && parser) parser.write(text);
  };
}
