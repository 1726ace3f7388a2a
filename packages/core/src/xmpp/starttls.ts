/**
 * STARTTLS (RFC 6120 §5) stream feature with this connection's TLS settings (CA, server name) and
 * TCP_NODELAY on the upgraded socket; xmpp.js's own passes only the host.
 */
import net from "node:net";
import tls from "node:tls";
import xml, { type Element } from "@xmpp/xml";
import { TlsSocketWrapper, type TlsSettings } from "./sockets.ts";

const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";

/** The part of an xmpp.js entity STARTTLS uses. */
interface StartTlsEntity {
  socket: unknown;
  sendReceive(el: Element, timeout?: number): Promise<Element>;
  _attachSocket(socket: unknown): void;
  _detachSocket(): void;
  restart(): Promise<unknown>;
}

/** Register the handler; `onStep` is told when the TLS handshake starts. */
export function starttlsFeature(settings: TlsSettings, onStep?: () => void) {
  return async ({ entity }: { entity: StartTlsEntity }, next: () => Promise<unknown>): Promise<unknown> => {
    const socket = entity.socket;
    if (!(socket instanceof net.Socket) || socket instanceof tls.TLSSocket) return next();
    const reply = await entity.sendReceive(xml("starttls", { xmlns: NS_TLS }));
    if (!reply.is("proceed", NS_TLS)) throw new Error("STARTTLS refused by the server");
    onStep?.();
    const wrapper = new TlsSocketWrapper(settings);
    const ready = new Promise<void>((resolve, reject) => {
      wrapper.once("connect", resolve);
      wrapper.once("error", reject);
    });
    // The plain socket now belongs to TLS: stop xmpp.js reading it, then hand it the wrapper.
    entity._detachSocket();
    wrapper.connect({ socket });
    entity._attachSocket(wrapper);
    await ready;
    await entity.restart();
    return undefined;
  };
}
