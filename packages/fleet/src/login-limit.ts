// A fleet-wide login rate limit (a reconnect storm after a server restart must not log every account in at once): a Redis counter per one-second window.
import { setTimeout as sleep } from "node:timers/promises";
import { FleetKeys } from "./keys.ts";
import type { FleetRedis } from "./redis.ts";

/** At most `perSecond` logins start per second across all workers of a bot. */
export class LoginLimit {
  constructor(
    readonly redis: FleetRedis,
    readonly keys: FleetKeys,
    readonly perSecond: number,
  ) {}

  /**
   * Wait for a login slot (resolves true), or resolve false if `signal` aborts first. A Redis error
   * lets the login through: the limit protects the server, it must not keep accounts offline.
   */
  async take(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const now = Date.now();
      const second = Math.floor(now / 1000);
      const key = this.keys.loginWindow(second);
      let n: number;
      try {
        const res = await this.redis.multi().incr(key).pexpire(key, 2000).exec();
        n = Number(res?.[0]?.[1] ?? 0);
      } catch {
        return true;
      }
      if (n <= this.perSecond) return true;
      await sleep((second + 1) * 1000 - now + Math.floor(Math.random() * 50), undefined, { signal }).catch(() => undefined);
    }
  }
}
