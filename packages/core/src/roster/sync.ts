/**
 * Roster sync, a core built-in: every bot fetches its roster on every new session, which also
 * makes it an "interested resource" so the server sends it roster pushes (RFC 6121 §2.2), and
 * applies those pushes (RFC 6121 §2.1.6), answering each with an empty result.
 *
 * - The get is sent before the other plugins' `online` hooks go on (RFC 6121 §2.2: request the
 *   roster before initial presence); a server that does not answer within 10 s is logged and the
 *   session goes on with what was known.
 * - XEP-0237 / RFC 6121 §2.6 versioning: once the server has given a `ver` (only servers that
 *   advertise `urn:xmpp:features:rosterver` do), later gets carry it; an empty result means
 *   "unchanged since then" and the known roster stays, the changes arrive as pushes. The first get
 *   of a process carries `ver=""` when the session's stream features advertised versioning
 *   (RFC 6121 §2.6.2: a client with no cached roster bootstraps versioning with the empty string),
 *   and no `ver` at all when they did not (§2.6.2 forbids it unless the server supports it). A
 *   transport that cannot tell (no `rosterVersioning` on the session) sends `ver` only once the
 *   server gave one.
 * - Security check (RFC 6121 §2.1.6): a push is believed only with no `from` or a `from` equal to
 *   the bot's bare JID; anything else (a contact forging a push) gets `service-unavailable` and is
 *   ignored. A push must hold exactly one item, else `bad-request`.
 * - The terminal chat and the test kit have no server-side roster: there the get is not sent
 *   (the view stays empty and not `loaded`); pushes pushed by a test still apply.
 */
import type { Element } from "@xmpp/xml";
import type { BotApi, Context } from "../context.ts";
import { bare } from "../jid.ts";
import type { Plugin, PluginHost } from "../plugin.ts";
import { iqError, iqResult, NS, StanzaError, xml } from "../stanza.ts";
import { readItem, RosterView, type RosterItem } from "./view.ts";

/** Transports with no server (and so no roster): the terminal chat and the test kit. */
const SERVERLESS: ReadonlySet<string> = new Set(["console", "test"]);

/** How long the roster get may take before the session goes on without it. */
const FETCH_TIMEOUT_MS = 10_000;

const views = new WeakMap<BotApi, RosterView>();

/** The roster of a running bot (`host.bot` or `ctx.bot`), kept by the core's roster sync; undefined outside a runtime. */
export function rosterOf(bot: BotApi): RosterView | undefined {
  for (let b: BotApi | null = bot; b; b = Object.getPrototypeOf(b) as BotApi | null) {
    const v = views.get(b);
    if (v) return v;
  }
  return undefined;
}

/** The built-in roster sync plugin. */
export function rosterSync(): Plugin & { readonly view: RosterView } {
  const view = new RosterView();
  let versioned = false; // the server has shown it versions the roster (a ver in a result or push)

  /** The `ver` of the next get: undefined for none. */
  const verToSend = (advertised: boolean | undefined): string | undefined => {
    if (advertised === false) return undefined;
    if (advertised === true) return view.ver ?? "";
    return versioned ? view.ver : undefined;
  };

  const fetch = async (host: PluginHost, advertised: boolean | undefined) => {
    const sent = verToSend(advertised);
    const query = xml("query", { xmlns: NS.roster, ...(sent !== undefined ? { ver: sent } : {}) });
    let res: Element;
    try {
      res = await host.request(xml("iq", { type: "get" }, query), { timeoutMs: FETCH_TIMEOUT_MS });
    } catch (error) {
      host.log.warn("roster get failed; going on with the roster known so far", { error, items: view.size });
      return;
    }
    const q = res.getChild("query", NS.roster);
    if (!q) {
      view.unchanged();
      host.log.debug("roster unchanged since the version we have", { ver: view.ver, items: view.size });
      return;
    }
    const ver = q.attrs.ver === undefined ? undefined : String(q.attrs.ver);
    if (ver !== undefined) versioned = true;
    const items = q.getChildren("item").flatMap((el): RosterItem[] => {
      const it = readItem(el);
      if (!it || it.remove) return [];
      const { remove: _remove, ...plain } = it;
      return [plain];
    });
    view.replace(items, ver);
    host.log.debug("roster fetched", { items: view.size, ver });
  };

  const onPush = async (ctx: Context, q: Element) => {
    const from = ctx.stanza.attrs.from === undefined ? undefined : String(ctx.stanza.attrs.from);
    const me = ctx.bot.jid;
    // Exactly the bare JID: another resource of the account is a client, not the server.
    if (from !== undefined && (!me || from.includes("/") || bare(from) !== bare(me))) {
      ctx.log.warn("ignored a roster push not from our own account (RFC 6121 §2.1.6)", { from });
      await ctx.sendStanza(iqError(ctx.stanza, new StanzaError("service-unavailable", "cancel")));
      return;
    }
    const els = q.getChildren("item");
    const item = els.length === 1 ? readItem(els[0]!) : undefined;
    if (!item) {
      await ctx.sendStanza(iqError(ctx.stanza, new StanzaError("bad-request", "modify")));
      return;
    }
    const ver = q.attrs.ver === undefined ? undefined : String(q.attrs.ver);
    if (ver !== undefined) versioned = true;
    if (!view.apply(item, ver)) ctx.log.warn("roster full; push ignored", { jid: item.jid, items: view.size });
    ctx.log.debug("roster push", { jid: item.jid, subscription: item.remove ? "remove" : item.subscription, ask: item.ask });
    await ctx.sendStanza(iqResult(ctx.stanza));
  };

  return {
    name: "core:roster",
    view,
    start(host) {
      views.set(host.bot, view);
    },
    online: (host, session) => (SERVERLESS.has(host.bot.transport) ? undefined : fetch(host, session.rosterVersioning)),
    middleware: async (ctx: Context, next: () => Promise<void>) => {
      if (ctx.kind !== "iq" || ctx.type !== "set") return next();
      const q = ctx.stanza.getChild("query", NS.roster);
      if (!q) return next();
      await onPush(ctx, q);
    },
  };
}
