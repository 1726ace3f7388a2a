/**
 * XEP-0012 last activity, asked of the bot's full JID: its idle time (§4), which for a bot is the
 * seconds since it last sent a message, or since it started when it has sent none.
 */
import { NS, xml } from "../stanza.ts";
import type { IqResponder } from "./responder.ts";

/** Answers `jabber:iq:last` gets with `seconds` idle. */
export const lastResponder: IqResponder = {
  type: "get",
  namespace: NS.last,
  answer: (_ctx, env) => {
    const since = env.lastMessageAt() ?? env.startedAt;
    const seconds = Math.max(0, Math.floor((Date.now() - since) / 1000));
    return xml("query", { xmlns: NS.last, seconds: String(seconds) });
  },
};
