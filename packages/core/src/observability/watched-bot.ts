/** What `ServiceMetrics` watches of a bot (its runtime's events, its transport's counters and depths, its token provider) and the health it reports per bot. */
import type { TokenProvider } from "../auth/types.ts";
import type { RuntimeEvents } from "../runtime/options.ts";
import type { Transport } from "../transport.ts";

/** Connection states a bot can be in. */
export const BOT_STATES = ["starting", "online", "offline", "reconnecting", "stopped", "failed"] as const;
export type BotState = (typeof BOT_STATES)[number];

/** What `/readyz` reports per bot. */
export interface BotStatus {
  state: BotState;
  /** Transport kind: xmpp, console, test… */
  transport: string;
  /** Bare or full JID while online. */
  jid?: string;
  /** Since when (epoch ms) the bot is in `state`. */
  since: number;
  /** Exit code once stopped or failed. */
  exitCode?: number;
  reconnects: number;
}

/** The event source of a bot's runtime (a `BotRuntime`). */
export interface RuntimeLike {
  /** The bot definition; its plugins' `queued()` feed `botrun_throttle_depth`. */
  readonly bot?: { readonly plugins: readonly { queued?(): number }[] };
  /** Stanzas received and not yet finished (`BotRuntime.backlog`): `botrun_backlog`. */
  readonly backlog?: number;
  on<K extends keyof RuntimeEvents & string>(event: K, listener: (payload: RuntimeEvents[K]) => void): unknown;
  off<K extends keyof RuntimeEvents & string>(event: K, listener: (payload: RuntimeEvents[K]) => void): unknown;
}

/** Counters a transport may keep (the XMPP transport's `stats`), read when `/metrics` is scraped. */
export interface TransportStatsLike {
  readonly droppedTooLarge: number;
  readonly droppedRefused: number;
  /** Inbound stanzas nested too deep, dropped before the pipeline (optional: older transports lack it). */
  readonly droppedTooDeep?: number;
  readonly outboxRejected: number;
  readonly intakePauses: number;
  readonly intakePaused: boolean;
}

/** A bot to watch. `transport` may expose `outboxDepth`/`unackedCount`/`stats` (the XMPP transport does). */
export interface WatchedBot {
  name: string;
  runtime: RuntimeLike;
  transport: Transport & { readonly outboxDepth?: number; readonly unackedCount?: number; readonly stats?: TransportStatsLike };
  tokenProvider?: TokenProvider;
}
