/** Redis storage for sessions (ioredis): one string key per session, JSON encoded, optional TTL. */
import { Redis, type RedisOptions } from "ioredis";
import type { StorageAdapter } from "./storage.ts";

/** Options of `redisStorage`. */
export interface RedisStorageOptions {
  /** An existing client (not closed by `close()`), or a URL / options to create one. */
  client?: Redis;
  url?: string;
  redis?: RedisOptions;
  /** Key prefix (default `botrun:session:`). */
  prefix?: string;
  /** Expire sessions after this many seconds without writes. */
  ttlSeconds?: number;
}

/** Stores sessions in Redis. */
export class RedisStorage<T> implements StorageAdapter<T> {
  readonly client: Redis;
  readonly prefix: string;
  readonly #ttl: number | undefined;
  readonly #owned: boolean;

  constructor(opts: RedisStorageOptions = {}) {
    this.#owned = !opts.client;
    this.client = opts.client ?? (opts.url ? new Redis(opts.url, opts.redis ?? {}) : new Redis(opts.redis ?? {}));
    this.prefix = opts.prefix ?? "botrun:session:";
    this.#ttl = opts.ttlSeconds;
  }

  async read(key: string): Promise<T | undefined> {
    const v = await this.client.get(this.prefix + key);
    return v === null ? undefined : (JSON.parse(v) as T);
  }

  async write(key: string, value: T): Promise<void> {
    const k = this.prefix + key;
    if (this.#ttl) await this.client.set(k, JSON.stringify(value), "EX", this.#ttl);
    else await this.client.set(k, JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    await this.client.del(this.prefix + key);
  }

  /** Close the client if this adapter created it. */
  async close(): Promise<void> {
    if (!this.#owned || this.client.status === "end") return;
    const ended = new Promise<void>((resolve) => this.client.once("end", () => resolve()));
    await this.client.quit().catch(() => this.client.disconnect());
    await ended;
  }
}

/** A Redis storage adapter. */
export function redisStorage<T>(opts: RedisStorageOptions = {}): RedisStorage<T> {
  return new RedisStorage<T>(opts);
}
