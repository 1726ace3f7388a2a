// The real test environment in one import: Prosody (+ X-MESSENGER-OAUTH2), the OAuth server,
// a DNS server for SRV, a TCP proxy, the slixmpp peer, redis-server and a raw XMPP client for assertions.
export { startProsody, type ProsodyHandle, type ProsodyOptions } from "./prosody.ts";
export { startEjabberd, type EjabberdHandle, type EjabberdOptions } from "./ejabberd.ts";
export { startOAuthServer, styledToken, type OAuthServerHandle, type OAuthServerOptions, type IssuedTokens, type TokenStyle } from "./oauth-server.ts";
export { startDns, type DnsHandle, type SrvRecord } from "./dns.ts";
export { startProxy, type ProxyHandle } from "./tcp-proxy.ts";
export { startPeer, type PeerHandle, type PeerOptions, type PeerEvent } from "./slixmpp.ts";
export { rawLogin, connectRaw, plainAuthText, offeredMechanisms, RawConnection, type RawTarget, type RawLoginResult } from "./raw-xmpp.ts";
export { freePort, waitForPort, pidAlive, stopChild } from "./proc.ts";
export { startRedis, type RedisServer } from "./redis.ts";
