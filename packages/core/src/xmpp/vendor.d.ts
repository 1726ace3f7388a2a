// Minimal typings for xmpp.js 0.14 modules that ship none; the transport wraps them in its own types.
declare module "@xmpp/connection-tcp" {
  export default class ConnectionTCP {
    socketParameters(service: string): { host: string; port: number | null } | undefined;
  }
}
