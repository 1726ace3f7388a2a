/**
 * The runtime's side of the plugin lifecycle: one `PluginHost` per plugin (its logger, send,
 * request, dispatch, `stopping`), the online hooks of each new session and the stop hooks, each
 * hook's failure logged and contained.
 */
import type { Plugin, PluginHost } from "../plugin.ts";
import { settlesWithin } from "../xmpp/async-util.ts";
import type { BotRuntime } from "./runtime.ts";

/** The least time a plugin's stop gets, even when draining handlers used up the stop budget. */
const PLUGIN_STOP_MIN_MS = 1000;

/** What the hosts hand to plugins: the runtime's api, logger, send, request and handle (as `dispatch`). */
export type HostOwner = Pick<BotRuntime, "api" | "log" | "send" | "request" | "handle">;

/** The hooks of a plugin the lifecycle calls (any `Plugin<C>` is one). */
export interface HookedPlugin {
  readonly name: string;
  online?: Plugin["online"];
  stop?: Plugin["stop"];
}

/** The plugins' hosts of one runtime, and the calls of their online and stop hooks. */
export class PluginHosts {
  readonly #owner: HostOwner;
  readonly #hosts = new Map<string, PluginHost>();
  /** Read by every host's `stopping` (the throttle reads it per send): a field, not a call. */
  #stopping = false;

  constructor(owner: HostOwner) {
    this.#owner = owner;
  }

  /** The runtime's `stop()` began: every host's `stopping` is true from now on. */
  markStopping(): void {
    this.#stopping = true;
  }

  /** The host of the plugin named `name` (one per name, made on first use). */
  of(name: string): PluginHost {
    let host = this.#hosts.get(name);
    if (!host) {
      const owner = this.#owner;
      const hosts = this;
      host = {
        bot: owner.api,
        log: owner.log.child({ plugin: name }),
        send: (stanza) => owner.send(stanza),
        request: (iq, o) => owner.request(iq, o),
        dispatch: (stanza, o) => owner.handle(stanza, o),
        get stopping() {
          return hosts.#stopping;
        },
      };
      this.#hosts.set(name, host);
    }
    return host;
  }

  /** Settles when the built-ins' online hooks (the roster get) are done for the latest session. */
  builtinsOnline: Promise<void> = Promise.resolve();

  /**
   * A new session: the built-ins' online hooks, then the bot's plugins'. `builtinsOnline` is set
   * synchronously: the transport asks for it right after emitting `online`, before it sends initial
   * presence (RFC 6121 §2.2: a client SHOULD request the roster before it sends presence).
   */
  sessionOnline(builtins: readonly HookedPlugin[], plugins: readonly HookedPlugin[], session: { jid: string; rosterVersioning?: boolean }): Promise<void> {
    this.builtinsOnline = this.online(builtins, session);
    return this.builtinsOnline.then(() => this.online(plugins, session));
  }

  /** Run the plugins' online hooks one after another; a failing one is logged and the next runs. */
  async online(plugins: readonly HookedPlugin[], session: { jid: string; rosterVersioning?: boolean }): Promise<void> {
    for (const plugin of plugins) {
      try {
        await plugin.online?.(this.of(plugin.name), session);
      } catch (error) {
        this.#owner.log.error("plugin online hook failed", { plugin: plugin.name, error });
      }
    }
  }

  /**
   * Run the plugins' stop hooks in reverse install order. Each gets what is left until `deadline`
   * (epoch ms), at least `PLUGIN_STOP_MIN_MS`: a stuck one is logged and left behind, so it cannot
   * keep the transport open.
   */
  async stop(plugins: readonly HookedPlugin[], deadline: number): Promise<void> {
    const log = this.#owner.log;
    for (const plugin of [...plugins].reverse()) {
      if (!plugin.stop) continue;
      const ms = Math.max(deadline - Date.now(), PLUGIN_STOP_MIN_MS);
      const stopped = Promise.resolve()
        .then(() => plugin.stop!(this.of(plugin.name)))
        .catch((error: unknown) => log.error("plugin stop failed", { plugin: plugin.name, error }));
      if (!(await settlesWithin(stopped, ms))) log.warn("stop: plugin did not stop in time; going on", { plugin: plugin.name, afterMs: ms });
    }
  }
}
