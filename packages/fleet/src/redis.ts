// The fleet's Redis connection: ioredis with bounded command time, so a lost link fails renewals fast instead of queueing them.
import { Redis } from "ioredis";
import { ConfigError, quitRedis, registerSecret } from "@botrun/core";

/** The setting naming the fleet's Redis. */
export const REDIS_SETTING = "BOTRUN_FLEET_REDIS";

/** The Redis client type the fleet uses. */
export type FleetRedis = Redis;

/** Options of `connectRedis`. */
export interface ConnectOptions {
  /** Reject a command that has no answer after this long (default 2 s). */
  commandTimeoutMs?: number;
  /** Connection name shown by CLIENT LIST. */
  name?: string;
}

/** A client for `url` (`redis://…` or `rediss://…`); reconnects on its own with a capped backoff. */
export function connectRedis(url: string, opts: ConnectOptions = {}): FleetRedis {
  return new Redis(url, {
    lazyConnect: false,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    ...(opts.name !== undefined && { connectionName: opts.name }),
  });
}

/** QUIT, or drop the socket if Redis does not answer within `ms`. Never throws. */
export function closeRedis(client: FleetRedis, ms = 1000): Promise<void> {
  return quitRedis(client, ms);
}

/** The fleet's Redis URL: `flag` (--redis), else BOTRUN_FLEET_REDIS; throws ConfigError naming the setting. Its password is kept out of logs. */
export function redisUrlFrom(env: NodeJS.ProcessEnv, flag: string | undefined): string {
  const url = flag?.trim() || env[REDIS_SETTING]?.trim();
  if (!url) throw new ConfigError(REDIS_SETTING, "the fleet's Redis URL (redis://host:6379/0), or --redis");
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError(REDIS_SETTING, "a redis:// or rediss:// URL");
  registerSecret(new URL(url).password || undefined);
  return url;
}
