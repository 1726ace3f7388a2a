/**
 * Rooms (XEP-0045 MUC): join rooms from configuration (with passwords), rejoin after every
 * new session, retry with `nick_` on a nick conflict, skip replayed history, mark mentions
 * of the bot's nick, record occupants' real JIDs where the room reveals them, route private
 * messages from occupants back to the occupant, and accept invitations by policy
 * (XEP-0045 mediated and XEP-0249 direct). The bot's own echoes are dropped by the core
 * once it has seen its self-presence; this plugin also drops any that arrive before.
 *
 * Trust (issue 9.3): a XEP-0045 §7.8.2 mediated invite is accepted only when its `from` is a
 * room's bare JID (a local part, no resource) on a MUC service the bot knows: listed in
 * `services`, or the service of a configured room or of one joined through `join()`. The server
 * stamps `from` (RFC 6120 §8.1.2.1), so a user can only send from her own account, which is
 * not on a MUC service: her "invite" is ignored (logged), never answered. Occupants' real
 * JIDs are recorded only from rooms the bot sent a join to, and used (`ctx.locals.realJid`)
 * only once the room's self-presence (status 110) to a join the bot sent said the bot is in.
 * A XEP-0249 direct invite names any JID, so before joining one on a service not known already
 * the bot checks it (./verify.ts): a local part, not the inviter's or the bot's own account or
 * user domain, and disco#info identity `conference/text` (XEP-0045 §6.2). Only a service that
 * passed that check, or one configured or joined through `join()`, is believed for mediated invites.
 *
 * Removed from a room: after a kick (status 307) or a room shut down by the service (332) it
 * rejoins with a growing delay; after a ban (301) or losing membership (321, 322) it stays out.
 */
import { backoffCeiling, jid, mucStatusCodes, NS, type Context, type MiddlewareFn, type PluginHost } from "@botrun/core";
import { policyAllows } from "../util/jid-pattern.ts";
import { mentions, repliesTo } from "../util/room-talk.ts";
import { declineInvite, joinPresence, leavePresence, NS_CONFERENCE, readInvite, type Invite } from "./stanzas.ts";
import { newRoomState, removalDetail, removedHow, type RoomState } from "./room-state.ts";
import type { Rooms, RoomsOptions } from "./types.ts";
import { implausibleRoom, isMucService } from "./verify.ts";

export { NS_CONFERENCE, readInvite, type Invite } from "./stanzas.ts";
export type { RemovedHow, RoomConfig, Rooms, RoomsOptions } from "./types.ts";
export { mentions, NS_REPLY, repliesTo, replyMarker } from "../util/room-talk.ts";

/**
 * True when the stanza is a room message mentioning the bot's nick (set by the rooms plugin).
 * A message that is a XEP-0461 reply to the bot's own message is not a mention: answer mentions
 * with `ctx.reply(text, { children: [replyMarker(ctx)] })` and two bots cannot loop (issue 9.9).
 */
export function mentioned(ctx: Context): boolean {
  return ctx.locals.mentioned === true;
}

/** Create the rooms plugin. */
export function rooms(opts: RoomsOptions = {}): Rooms {
  const states = new Map<string, RoomState>();
  const skipHistory = opts.skipHistory !== false;
  const maxRetries = opts.maxNickRetries ?? 3;
  let host: PluginHost | undefined;
  let online = false;
  let defaultNick = opts.nick;

  const add = (room: string, nick?: string, password?: string, vouched = true): RoomState => {
    const st = newRoomState(room, nick, password, vouched);
    const key = st.room;
    const prev = states.get(key);
    if (prev) {
      prev.vouched ||= vouched;
      prev.password = password ?? prev.password;
      if (nick) prev.attemptNick = nick;
      return prev;
    }
    states.set(key, st);
    return st;
  };
  for (const r of opts.join ?? []) {
    if (typeof r === "string") add(r);
    else add(r.room, r.nick, r.password);
  }
  /** MUC services whose mediated invites are believed (see the module comment). */
  const services = new Set((opts.services ?? []).map((d) => d.toLowerCase()));
  for (const st of states.values()) services.add(jid.domain(st.room));

  const sendJoin = async (st: RoomState, nick: string) => {
    st.attemptNick = nick;
    st.joining = true;
    await host!.send(joinPresence(st.room, nick, { password: st.password, noHistory: skipHistory }));
  };

  const joinFresh = async (st: RoomState) => {
    cancelRejoin(st);
    const base = st.attemptNick || defaultNick || host!.bot.name;
    st.attempts = 0;
    st.joined = false;
    st.nick = undefined;
    st.occupants.clear();
    st.attemptNick = base;
    await sendJoin(st, base);
  };

  const kickPolicy = opts.rejoinAfterKick === false ? undefined : { delayMs: 5000, maxDelayMs: 300_000, ...opts.rejoinAfterKick };

  const cancelRejoin = (st: RoomState) => {
    if (st.rejoin) clearTimeout(st.rejoin);
    st.rejoin = undefined;
  };

  /** The bot's own unavailable presence: a kick, ban or removal (by status code), or just our leave. */
  const onRemoved = (ctx: Context, st: RoomState, codes: string[]) => {
    const how = removedHow(codes);
    if (!how) return;
    const detail = removalDetail(ctx.stanza);
    if (how !== "kicked" || !kickPolicy) {
      ctx.log.warn("removed from room; not rejoining", { room: st.room, how, ...detail });
      cancelRejoin(st);
      states.delete(st.room);
    } else {
      if (st.joinedAt && Date.now() - st.joinedAt >= kickPolicy.maxDelayMs) st.kicks = 0;
      const delay = backoffCeiling(st.kicks + 1, { baseMs: kickPolicy.delayMs, maxMs: kickPolicy.maxDelayMs });
      st.kicks++;
      ctx.log.warn("kicked from room; rejoining later", { room: st.room, delayMs: delay, ...detail });
      cancelRejoin(st);
      st.rejoin = setTimeout(() => {
        st.rejoin = undefined;
        if (!online || !host || host.stopping || states.get(st.room) !== st || st.joined) return;
        joinFresh(st).catch((error: unknown) => host?.log.warn("rejoin failed", { room: st.room, error }));
      }, delay);
      st.rejoin.unref?.();
    }
    opts.onRemoved?.(st.room, how, detail);
  };

  const onPresence = async (ctx: Context, st: RoomState): Promise<boolean> => {
    const nick = ctx.nick ?? jid.resource(ctx.from); // error presences carry no muc#user payload
    if (ctx.type === "error") {
      if (nick !== st.attemptNick || st.joined) return true;
      st.joining = false;
      st.occupants.clear();
      const cond = ctx.error?.condition ?? "undefined-condition";
      if (cond === "conflict" && st.attempts < maxRetries) {
        st.attempts++;
        ctx.log.info("room nick taken, retrying", { room: st.room, nick: `${nick}_` });
        await sendJoin(st, `${nick}_`);
      } else {
        ctx.log.warn("could not join room", { room: st.room, condition: cond });
        opts.onJoinError?.(st.room, cond);
      }
      return false;
    }
    if (!nick) return true;
    const codes = mucStatusCodes(ctx.stanza);
    const item = ctx.stanza.getChild("x", NS.mucUser)?.getChild("item");
    const ours = st.joining || st.joined; // XEP-0045 §7.2.3: a self-presence answers a join we sent
    if ((codes.includes("110") && ours) || (ctx.type === "unavailable" && st.joined && nick === st.nick)) {
      st.joining = false;
      if (ctx.type === "unavailable") {
        st.joined = false;
        st.nick = undefined;
        st.occupants.clear();
        onRemoved(ctx, st, codes);
      } else if (!st.joined || st.nick !== nick) {
        st.joined = true;
        st.nick = nick;
        st.joinedAt = Date.now();
        if (st.vouched) services.add(jid.domain(st.room));
        ctx.log.info("joined room", { room: st.room, nick });
        opts.onJoin?.(st.room, nick);
      }
      return true;
    }
    if (!st.joined && !st.joining) return true; // not a room we are in or entering: its occupants say nothing
    if (ctx.type === "unavailable") st.occupants.delete(nick);
    else st.occupants.set(nick, item?.attrs.jid ? String(item.attrs.jid) : undefined);
    return true;
  };

  const onInvite = async (ctx: Context, inv: Invite) => {
    if (inv.kind === "mediated" && !fromMucService(ctx.from)) {
      ctx.log.warn("ignored a mediated invite not sent by a room on a known MUC service", { from: ctx.from });
      return;
    }
    const ok = policyAllows(opts.invites ?? "deny", inv.from);
    ctx.log.info("room invitation", { room: inv.room, from: inv.from, accepted: ok });
    if (ok) {
      if (inv.kind === "direct" && !(await directTargetOk(ctx, inv))) return;
      await joinRoom(add(inv.room, undefined, inv.password, inv.kind === "mediated" ? true : services.has(jid.domain(inv.room))));
    } else if (inv.kind === "mediated" && inv.inviter) {
      await ctx.sendStanza(declineInvite(inv.room, inv.inviter, "I only join rooms I am invited to by people I know."));
    }
  };

  /** A direct invite's room: plausible, and on a known service or one disco shows is a MUC service. */
  const directTargetOk = async (ctx: Context, inv: Invite): Promise<boolean> => {
    const why = implausibleRoom(inv.room, inv.from, host?.bot.jid);
    const service = jid.domain(inv.room).toLowerCase();
    if (!why && (services.has(service) || (await isMucService((iq) => host!.request(iq, { timeoutMs: 10_000 }), service)))) {
      services.add(service);
      return true;
    }
    ctx.log.warn("ignored a direct invite to a JID that is not a verified MUC room", { room: inv.room, from: inv.from, reason: why ?? "disco#info shows no conference/text identity" });
    return false;
  };

  const joinRoom = async (st: RoomState) => {
    if (host && online && !st.joined) await joinFresh(st);
  };

  /** A room's bare JID (local part, no resource) on a known MUC service. */
  const fromMucService = (from: string): boolean =>
    jid.local(from) !== undefined && jid.resource(from) === undefined && services.has(jid.domain(from));

  const middleware: MiddlewareFn<Context> = async (ctx, next) => {
    const roomKey = ctx.from ? jid.bare(ctx.from) : "";
    const st = states.get(roomKey);
    if (ctx.kind === "presence" && st) {
      if (await onPresence(ctx, st)) return next();
      return;
    }
    if (ctx.kind !== "message") return next();
    const inv = ctx.type !== "error" && ctx.type !== "groupchat" ? readInvite(ctx.stanza) : undefined;
    if (inv) return onInvite(ctx, inv);
    if (!st) return next();
    const trusted = st.joined ? st.occupants : undefined; // real JIDs only from rooms we are in
    if (ctx.type === "groupchat") {
      if (ctx.delayed && skipHistory) return; // replayed history
      if (ctx.nick !== undefined && st.nick !== undefined && ctx.nick === st.nick) return; // own echo
      if (ctx.nick !== undefined) {
        const real = trusted?.get(ctx.nick);
        if (real) ctx.locals.realJid = real;
      }
      if (ctx.text !== undefined && st.nick) {
        const toMe = repliesTo(ctx.stanza)?.toLowerCase() === `${st.room}/${st.nick}`.toLowerCase();
        ctx.locals.mentioned = !toMe && mentions(ctx.text, st.nick);
      }
      return next();
    }
    if (ctx.type === "chat" || ctx.type === "normal") {
      // A private message from an occupant: the core already made `ctx.chat` room/nick (a room the bot is in).
      ctx.locals.occupant = true;
      const nick = jid.resource(ctx.from);
      const real = nick ? trusted?.get(nick) : undefined;
      if (real) ctx.locals.realJid = real;
    }
    return next();
  };

  const api: Rooms = {
    name: "rooms",
    // XEP-0045 §6.1 (the bot is a MUC client) and XEP-0249 §3 (MUST advertise direct invitations).
    features: [NS.muc, NS_CONFERENCE],
    middleware,
    start(h) {
      host = h;
      defaultNick ??= h.bot.name;
    },
    async online(h) {
      host = h;
      online = true;
      for (const st of states.values()) await joinFresh(st);
    },
    async stop(h) {
      for (const st of states.values()) cancelRejoin(st);
      for (const st of states.values()) if (st.joined && st.nick) await h.send(leavePresence(st.room, st.nick));
      online = false;
    },
    async join(room, o = {}) {
      await joinRoom(add(room, o.nick, o.password));
    },
    async leave(room, status) {
      const st = states.get(jid.bare(room));
      if (!st) return;
      cancelRejoin(st);
      states.delete(st.room);
      if (host && online && st.nick) await host.send(leavePresence(st.room, st.nick, status));
    },
    joined() {
      return new Map([...states.values()].filter((s) => s.joined && s.nick).map((s) => [s.room, s.nick!]));
    },
    occupants(room) {
      return new Map(states.get(jid.bare(room))?.occupants ?? []);
    },
  };
  return api;
}
