/** @botrun/fleet: accounts as data in Redis and a fleet of workers sharing them (leases, fencing, rendezvous assignment, fleet-wide token refresh). */
export { AccountStore, parseAccountLines, parseLease, type AccountCredentials, type AccountInfo, type AccountInput, type AccountState } from "./accounts.ts";
export { accountOf, perAccountChat } from "./account-of.ts";
export { FleetConsentStore, openFleetConsent, type FleetConsentOptions, type FleetConsentTarget } from "./consent.ts";
export { AccountSession, accountEnv, FLEET_RESOURCE, type AccountSessionOptions, type SessionEnd } from "./account-session.ts";
export { fleetMain, leaseTtlFrom, loginRateFrom, refreshAbandonFrom, workerIdFrom, REDIS_SETTING, type FleetCliDeps } from "./cli.ts";
export { fleetMetricsText, startFleetHttp, type FleetHttp, type FleetStatus } from "./http.ts";
export { FleetKeys } from "./keys.ts";
export { FENCE_FRACTION, LeaseTable, type HeldLease, type LeaseTableOptions } from "./leases.ts";
export { LoginLimit } from "./login-limit.ts";
export { Membership } from "./membership.ts";
export { closeRedis, connectRedis, redisUrlFrom, type ConnectOptions, type FleetRedis } from "./redis.ts";
export { ownerOf, weight } from "./rendezvous.ts";
export { SecretBox, SecretBoxError, secretBoxFromEnv, SECRET_SETTING } from "./secret-box.ts";
export { SEEN_TTL_MS, SeenFilterTransport, type SeenFilterOptions } from "./seen-filter.ts";
export { FleetTokenStore, fingerprint } from "./token-store.ts";
export { DEFAULT_ABANDON_MS, SingleFlightEndpoint, type SingleFlightOptions } from "./single-flight.ts";
export { SpendGate, SpendRefused, type SpendPhase } from "./spend-gate.ts";
export { FleetWorker, type FleetWorkerEvents, type FleetWorkerOptions } from "./worker.ts";
