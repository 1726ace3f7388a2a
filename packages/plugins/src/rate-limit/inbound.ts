/**
 * Inbound flood control: a token bucket per sender. Past the limit a message is dropped
 * (`drop`), or the sender is told once to slow down and then dropped (`warn`). Memory
 * stays bounded: at most `maxSenders` buckets are kept, least recently seen forgotten first.
 *
 * In a room the warning never goes to the whole room (issue 8.5): it goes privately to the
 * occupant (XEP-0045 §7.5, `room/nick`), and only when the dropped message was addressed to the
 * bot (a command prefix, or a mention of its room nick); chatter among others gets no warning.
 */
import { jid, NS, RoomNicks, xml, type Context, type MiddlewareFn, type Plugin } from "@botrun/core";
import { mentions } from "../util/room-talk.ts";
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

/**
 * Default key: messages with a body, per bare JID (per occupant in rooms); other stanzas are not
 * limited, nor are archived ones a plugin catches up on (`ctx.caughtUp`: a backlog, not a flood).
 */
export function defaultRateKey(ctx: Context): string | undefined {
  if (ctx.kind !== "message" || ctx.text === undefined || ctx.delayed || ctx.caughtUp) return undefined;
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
  const nicks = new RoomNicks();

  /** Warn whoever addressed the bot: the sender in a chat, the occupant privately in a room, else nobody. */
  const warn = (ctx: Context): Promise<void> | undefined => {
    if (!ctx.room) return ctx.reply(warnText);
    const text = ctx.text?.trimStart() ?? "";
    const nick = nicks.get(ctx.room);
    const addressed = ctx.bot.commandPrefixes.some((p) => p && text.startsWith(p)) || (nick !== undefined && mentions(text, nick));
    if (!addressed) return undefined;
    return ctx.reply(warnText, { type: "chat", children: [xml("x", { xmlns: NS.mucUser })] });
  };

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
    nicks.track(ctx);
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
      const sent = warn(ctx);
      if (sent) {
        s.warned = true;
        await sent;
      }
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
