/**
 * Roster and presence: a subscription policy, a view of who is online (per full JID,
 * with show and status), and the bot's own status, re-announced on every new session.
 *
 * - `accept-all`, or an allow-list that matches: answer `subscribed`, and subscribe back unless
 *   the bot already sees the contact's presence or has asked: the core's roster (fetched on every
 *   session, kept current by roster pushes, `rosterOf`) says so, following the server rather than
 *   the presences (Prosody 0.12 does not always pass `subscribed` on). A contact who removed and
 *   re-added the bot thus ends with `both` again; two auto-accepting bots do not loop. Without a
 *   server roster (terminal chat, test kit) the bot subscribes back once per contact per session.
 * - `deny`, or no match: answer `unsubscribed`.
 * Presence stanzas always continue down the pipeline after being recorded.
 */
import {
  jid,
  presence,
  rosterOf,
  type Context,
  type MiddlewareFn,
  type Plugin,
  type PluginHost,
  type RosterItem,
  type RosterView,
  type Show,
  type Subscription,
} from "@botrun/core";
import { policyAllows, type JidPolicy } from "../util/jid-pattern.ts";

/** What the bot knows about one online resource. */
export interface PresenceInfo {
  /** Full JID. */
  readonly jid: string;
  readonly show: Show;
  readonly status: string | undefined;
  readonly priority: number;
  /** When this presence arrived (ms since epoch). */
  readonly since: number;
}

/** Options of `roster()`. */
export interface RosterOptions {
  /** Who may subscribe (default `accept-all`). */
  subscriptions?: JidPolicy;
  /** The bot's initial status. */
  status?: { text?: string; show?: "away" | "chat" | "dnd" | "xa" };
  /** Called after a subscription request was answered. */
  onSubscription?: (from: string, accepted: boolean) => void;
}

/** The roster plugin. */
export interface Roster extends Plugin {
  /** Online resources of a bare JID (empty when offline). */
  presenceOf(address: string): PresenceInfo[];
  /** True when any resource of `address` is online. */
  isOnline(address: string): boolean;
  /** Everyone online: bare JID → resources. */
  whoIsOnline(): Map<string, PresenceInfo[]>;
  /** The subscription state of a contact in the server's roster (undefined: not in it, or no roster). */
  subscriptionOf(address: string): Subscription | undefined;
  /** The contacts of the server's roster. */
  contacts(): RosterItem[];
  /** Set the bot's own status; sent now if online and on every new session. */
  setStatus(text: string | undefined, show?: "away" | "chat" | "dnd" | "xa"): Promise<void>;
}

/** Create the roster plugin. */
export function roster(opts: RosterOptions = {}): Roster {
  const policy = opts.subscriptions ?? "accept-all";
  const seen = new Map<string, Map<string, PresenceInfo>>(); // bare → resource → info
  const subscribedBack = new Set<string>();
  let status = opts.status ?? {};
  let host: PluginHost | undefined;
  let online = false;
  let view: RosterView | undefined;

  /** Subscribe back to `b`? By the server's roster when it knows `b`; else once per session. */
  const shouldSubscribeBack = (b: string): boolean => {
    const item = view?.get(b);
    if (item || view?.loaded) return !item || (!item.ask && item.subscription !== "to" && item.subscription !== "both");
    return !subscribedBack.has(b);
  };

  const announce = () => host!.send(presence({ show: status.show, status: status.text }));

  const middleware: MiddlewareFn<Context> = async (ctx, next) => {
    if (ctx.kind !== "presence" || ctx.room || !ctx.from) return next();
    const from = ctx.from;
    const b = jid.bare(from);
    const self = ctx.bot.jid;
    switch (ctx.type) {
      case "subscribe": {
        const ok = policyAllows(policy, b);
        await ctx.sendStanza(presence({ to: b, type: ok ? "subscribed" : "unsubscribed" }));
        if (ok && shouldSubscribeBack(b)) {
          subscribedBack.add(b);
          await ctx.sendStanza(presence({ to: b, type: "subscribe" }));
        }
        ctx.log.info("subscription request", { from: b, accepted: ok });
        opts.onSubscription?.(b, ok);
        break;
      }
      case "available": {
        if (self && from === self) break;
        let res = seen.get(b);
        if (!res) seen.set(b, (res = new Map()));
        const prio = Number(ctx.stanza.getChildText("priority") ?? 0);
        res.set(from, { jid: from, show: ctx.show ?? "online", status: ctx.status, priority: Number.isFinite(prio) ? prio : 0, since: Date.now() });
        break;
      }
      case "unavailable": {
        const res = seen.get(b);
        if (from.includes("/")) res?.delete(from);
        else res?.clear();
        if (res && res.size === 0) seen.delete(b);
        break;
      }
      case "unsubscribed":
      case "unsubscribe":
        seen.delete(b);
        subscribedBack.delete(b);
        break;
    }
    return next();
  };

  return {
    name: "roster",
    middleware,
    start(h) {
      host = h;
      view = rosterOf(h.bot);
    },
    async online(h) {
      host = h;
      online = true;
      seen.clear(); // the server sends current presences again on a new session
      subscribedBack.clear();
      if (status.text !== undefined || status.show !== undefined) await announce();
    },
    stop() {
      online = false;
    },
    presenceOf(address) {
      return [...(seen.get(jid.bare(address))?.values() ?? [])];
    },
    isOnline(address) {
      return (seen.get(jid.bare(address))?.size ?? 0) > 0;
    },
    subscriptionOf(address) {
      return view?.get(address)?.subscription;
    },
    contacts() {
      return view?.items() ?? [];
    },
    whoIsOnline() {
      return new Map([...seen].map(([b, res]) => [b, [...res.values()]]));
    },
    async setStatus(text, show) {
      status = { text, show };
      if (host && online && !host.stopping) await announce();
    },
  };
}
