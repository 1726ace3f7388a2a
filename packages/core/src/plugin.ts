/**
 * The plugin contract. A plugin is made by a factory (`rooms({ join: [...] })`) and
 * receives its collaborators by name from the runtime; it may add middleware at the
 * place it is installed and hook the bot's lifecycle.
 */
import type { Element } from "@xmpp/xml";
import type { Middleware } from "./compose.ts";
import type { BotApi, Context } from "./context.ts";
import type { DiscoIdentity, DiscoProvider } from "./iq/disco-info.ts";
import type { RequestOptions } from "./iq/requests.ts";
import type { Logger } from "./logger.ts";
import type { ContextExtension } from "./runtime/context-class.ts";

/** What a plugin receives from the runtime. */
export interface PluginHost {
  /** The running bot (name, own JID, prefixes, send, logger). */
  readonly bot: BotApi;
  /** A logger named after the plugin. */
  readonly log: Logger;
  /** Queue a stanza for delivery. */
  send(stanza: Element): Promise<void>;
  /** Send an iq get/set and wait for its result (see `BotApi.request`). */
  request(iq: Element, opts?: RequestOptions): Promise<Element>;
  /**
   * Hand an inbound stanza to the pipeline as if the transport had delivered it (same context,
   * same per-chat order); `caughtUp` marks one taken from an archive (`ctx.caughtUp`). Resolves
   * when the pipeline finished with it; never rejects.
   */
  dispatch(stanza: Element, opts?: DispatchOptions): Promise<void>;
  /** True once `stop()` began: plugins should stop producing output. */
  readonly stopping: boolean;
}

/** Options of `PluginHost.dispatch`. */
export interface DispatchOptions {
  /** The stanza comes from an archive, not live (sets `ctx.caughtUp`). Default false. */
  caughtUp?: boolean;
}

/**
 * Wraps every outgoing stanza (replies, plugin sends, presence): call `next(stanza)` to pass it
 * on, possibly changed or later (throttling), or not at all (filtering). Transformers run in
 * install order, the first installed outermost, and end at the transport.
 */
export type SendTransformer = (stanza: Element, next: (stanza: Element) => Promise<void>) => Promise<void>;

/** A botrun plugin. Every member is optional except `name`. */
export interface Plugin<C extends Context = Context> {
  /** Unique name, used in logs. */
  readonly name: string;
  /** Middleware placed in the pipeline where the plugin is installed. */
  readonly middleware?: Middleware<C>;
  /** Wraps every stanza the bot sends (see `SendTransformer`). */
  readonly transformSend?: SendTransformer;
  /**
   * Methods and getters the plugin adds to the bot's context class (`this` is the context),
   * defined once on its prototype when the runtime starts; a name already taken (by the context
   * or another plugin) stops the start. Type them for handlers with a flavor: `Context & UploadFlavor`.
   */
  readonly context?: ContextExtension;
  /** XEP-0030 features (namespaces) the plugin implements: listed in disco#info and the XEP-0115 caps hash. */
  readonly features?: readonly string[];
  /** XEP-0030 identities beside the bot's own `client/bot`. */
  readonly identities?: readonly DiscoIdentity[];
  /** Disco items and the info of the plugin's own nodes (e.g. XEP-0050 command nodes). */
  readonly disco?: DiscoProvider;
  /** Called once when the bot starts, before the transport connects. */
  start?(host: PluginHost): void | Promise<void>;
  /**
   * Called on every new session (first connect, and reconnects whose XEP-0198
   * resumption failed): join rooms, announce presence. Not called on resumption.
   */
  online?(host: PluginHost, session: { jid: string; rosterVersioning?: boolean }): void | Promise<void>;
  /** Called once on shutdown, before the transport closes: stop timers, flush state. */
  stop?(host: PluginHost): void | Promise<void>;
  /** Outgoing stanzas the plugin holds back (e.g. a throttle's queue): added to the `botrun_throttle_depth` gauge. */
  queued?(): number;
}
