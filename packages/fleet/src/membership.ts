// Fleet membership: each worker keeps a TTL key alive (heartbeat) and a sorted set lists them; live means the key exists.
import { FleetKeys } from "./keys.ts";
import type { FleetRedis } from "./redis.ts";

/** One worker's membership. */
export class Membership {
  constructor(
    readonly redis: FleetRedis,
    readonly keys: FleetKeys,
    readonly id: string,
    readonly ttlMs: number,
  ) {}

  /** Announce (or keep announcing) this worker for another TTL. */
  async heartbeat(info: Record<string, string | number> = {}): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.member(this.id), JSON.stringify({ id: this.id, pid: process.pid, ...info }), "PX", this.ttlMs)
      .zadd(this.keys.members, Date.now(), this.id)
      .exec();
  }

  /** Ids of the live workers, sorted; members whose key expired are pruned from the set. */
  async live(): Promise<string[]> {
    const ids = await this.redis.zrange(this.keys.members, 0, -1);
    if (ids.length === 0) return [];
    const exists = await this.redis.mget(...ids.map((id) => this.keys.member(id)));
    const dead = ids.filter((_, i) => exists[i] === null);
    if (dead.length) await this.redis.zrem(this.keys.members, ...dead);
    return ids.filter((_, i) => exists[i] !== null).sort();
  }

  /** Leave at once (SIGTERM): the others see it at their next round instead of after a TTL. */
  async leave(): Promise<void> {
    await this.redis.multi().del(this.keys.member(this.id)).zrem(this.keys.members, this.id).exec();
  }
}
