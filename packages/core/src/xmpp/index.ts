/** The XMPP transport and its building blocks. */
export { createXmppTransport } from "./transport.ts";
export type { XmppTransport, XmppTransportOptions, XmppTransportStats, BeforeSaslContext, BeforeSaslResult } from "./transport.ts";
export { StanzaTooLargeError, DEFAULT_MAX_STANZA_BYTES } from "./stanza-limit.ts";
export { XmppConnectError, XmppAuthError, OutboxFullError, TransportStoppedError } from "./errors.ts";
export type { ConnectStep } from "./errors.ts";
export type { SaslCredentials } from "./sasl-mechanisms.ts";
export { resolveServices, orderSrv } from "./srv.ts";
export { backoffDelay } from "./backoff.ts";
