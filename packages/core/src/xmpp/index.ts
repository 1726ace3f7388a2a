/** The XMPP transport and its building blocks. */
export { createXmppTransport } from "./transport.ts";
export type { XmppTransport, XmppTransportOptions, BeforeSaslContext, BeforeSaslResult } from "./transport.ts";
export { XmppConnectError, XmppAuthError, OutboxFullError, TransportStoppedError } from "./errors.ts";
export type { ConnectStep } from "./errors.ts";
export type { SaslCredentials } from "./sasl-mechanisms.ts";
export { resolveServices, orderSrv } from "./srv.ts";
export { backoffDelay } from "./backoff.ts";
