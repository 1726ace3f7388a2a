/**
 * Inbound flood control: a token bucket per sender. Past the limit a message is dropped
 * (`drop`), or the sender is told once to slow down and then dropped (`warn`). Memory
 * stays bounded: at most `maxSenders` buckets are kept, least recently seen forgotten first.
 */
import { jid, type Context, type MiddlewareFn, type Plugin } from "@botrun/core";
import { LruMap } from "../util/lru.ts";
import { TokenBucket } from "./token-bucket.ts";

/** Options of `rateLimit()`. */
export interface RateLimitOptions {
  /** Burst size: messages accepted at once (default 5). */
  capacity?: number;
  /** Sustained rate (default 1 message/s). */
  refillPerSecond?: number;
  /** `drop` silently, or `warn` once per flood then drop (default `warn`). */
  mode?: "drop" | "warn";
  /** The warning text (default "You are sending messages too fast; I'll ignore some of them."). */
  warnText?: string;
  /** At most this many senders are tracked (default 10 000). */
  maxSenders?: number;
  /** Who is limited: default the sender's bare JID (room occupants by room/nick). `undefined` = not limited. */
  key?: (ctx: Context) => string | undefined;
  /** Called for every dropped message (metrics). */
  onLimited?: (ctx: Context, key: string) => void;
}

interface SenderState {
  bucket: TokenBucket;
  warned: boolean;
}

/** The inbound limiter plugin. */
export interface RateLimiter extends Plugin {
  /** Take one token for `key` now; false when over the limit. */
  take(key: string, now?: number): boolean;
  /** Number of senders tracked. */
  readonly size: number;
}

/** Default key: messages with a body, per bare JID (per occupant in rooms); other stanzas are not limited. */
export function defaultRateKey(ctx: Context): string | undefined {
  if (ctx.kind !== "message" || ctx.text === undefined || ctx.delayed) return undefined;
  return ctx.room || ctx.chat.includes("/") ? ctx.from : jid.bare(ctx.from);
}

/** Create an inbound per-sender rate limiter. Install it early (before commands). */
export function rateLimit(opts: RateLimitOptions = {}): RateLimiter {
  const capacity = opts.capacity ?? 5;
  const rate = opts.refillPerSecond ?? 1;
  if (!(capacity >= 1) || !(rate > 0)) throw new RangeError("rateLimit: capacity must be >= 1 and refillPerSecond > 0");
  const senders = new LruMap<string, SenderState>(opts.maxSenders ?? 10_000);
  const keyOf = opts.key ?? defaultRateKey;
  const mode = opts.mode ?? "warn";
  const warnText = opts.warnText ?? "You are sending messages too fast; I'll ignore some of them.";

  const state = (key: string, now: number): SenderState => {
    let s = senders.get(key);
    if (!s) {
      s = { bucket: new TokenBucket(capacity, rate, now), warned: false };
      senders.set(key, s);
    }
    return s;
  };

  const take = (key: string, now = Date.now()): boolean => state(key, now).bucket.tryTake(now);

  const middleware: MiddlewareFn<Context> = async (ctx, next) => {
    const key = keyOf(ctx);
    if (key === undefined) return next();
    const now = Date.now();
    const s = state(key, now);
    if (s.bucket.tryTake(now)) {
      s.warned = false;
      return next();
    }
    opts.onLimited?.(ctx, key);
    ctx.log.debug("rate limited", { key });
    if (mode === "warn" && !s.warned) {
      s.warned = true;
      await ctx.reply(warnText);
    }
  };

  return {
    name: "rate-limit",
    middleware,
    take,
    get size() {
      return senders.size;
    },
  };
}
