/**
 * The core's iq responders (XEP-0030, XEP-0092, XEP-0199, XEP-0202, XEP-0012) as one built-in
 * plugin: a single middleware level that looks the query's namespace up in a table, so stanzas
 * other than iq get/set pay one comparison.
 */
import type { Element } from "@xmpp/xml";
import type { Context } from "../context.ts";
import type { Plugin } from "../plugin.ts";
import { iqResult } from "../stanza.ts";
import type { DiscoInfo } from "./disco-info.ts";

/** What the runtime tells its built-in plugins. */
export interface BuiltinEnv {
  /** The bot's name (its disco identity). */
  readonly botName: string;
  /** The bot's disco#info (core and every plugin), fixed once the runtime started. */
  info(): DiscoInfo;
  /** The XEP-0115 `ver` of `info()`. */
  capsVer(): string;
  /** Every installed plugin, the built-ins first. */
  plugins(): readonly Plugin[];
  /** The operating system to report in XEP-0092 replies; undefined: not reported. */
  readonly versionOs: string | undefined;
  /** When the runtime started (ms since the epoch). */
  readonly startedAt: number;
  /** When the bot last sent a message (ms since the epoch), undefined before its first. */
  lastMessageAt(): number | undefined;
}

/** Answers one kind of iq query: returns the result's payload, or throws a StanzaError. */
export interface IqResponder {
  readonly type: "get" | "set";
  /** The query's namespace, also advertised as a disco feature. */
  readonly namespace: string;
  answer(ctx: Context, env: BuiltinEnv): Element | undefined | Promise<Element | undefined>;
}

/** A plugin answering the given responders' queries before the bot's own middleware. */
export function responderPlugin(name: string, responders: readonly IqResponder[], env: BuiltinEnv): Plugin {
  const table = new Map(responders.map((r) => [`${r.type} ${r.namespace}`, r]));
  return {
    name,
    features: responders.map((r) => r.namespace),
    middleware: async (ctx: Context, next: () => Promise<void>) => {
      const r = ctx.kind === "iq" && ctx.payload ? table.get(`${ctx.type} ${String(ctx.payload.attrs.xmlns)}`) : undefined;
      if (!r) return next();
      const payload = await r.answer(ctx, env);
      await ctx.sendStanza(iqResult(ctx.stanza, payload));
    },
  };
}
