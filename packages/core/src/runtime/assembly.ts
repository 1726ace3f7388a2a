/**
 * How a runtime is put together from its options, bot and plugins (cold code, run once): the
 * intake backlog with its limits, the pipeline of each stanza kind (a built-in's middleware only in
 * the kinds it handles) and the members the plugins and the host declare for the context class.
 */
import { compose, toFn, type MiddlewareFn } from "../compose.ts";
import type { Context, StanzaKind } from "../context.ts";
import type { Logger } from "../logger.ts";
import type { Plugin } from "../plugin.ts";
import type { Transport } from "../transport.ts";
import { Backlog } from "./backlog.ts";
import { BUILTINS } from "./builtins.ts";
import type { DeclaredExtension } from "./context-class.ts";
import type { RuntimeOptions } from "./options.ts";

/**
 * The backlog of stanzas received and not yet finished: the transport is paused at `maxBacklog`
 * (default 1000) and resumed at half; a transport that cannot pause refuses stanzas past ten times
 * that. `held` (called twice per stanza) counts the replies plugins hold back (the throttle).
 */
export function intakeBacklog(maxBacklog: number | undefined, transport: Transport, held: () => number, logger: Logger): Backlog {
  const high = Math.max(1, maxBacklog ?? 1000);
  return new Backlog({
    high,
    low: Math.floor(high / 2),
    hardCap: high * 10,
    held,
    setPressure: transport.setInboundPressure ? (paused) => transport.setInboundPressure!(paused) : undefined,
    logger,
  });
}

/** The pipeline per stanza kind: the built-ins (made from `BUILTINS`, in its order) that handle that kind, then the bot's own. */
export function compilePipelines<C extends Context>(builtins: readonly Plugin[], own: MiddlewareFn<C>): Record<StanzaKind, MiddlewareFn<C>> {
  const pipeline = (kind: StanzaKind): MiddlewareFn<C> => {
    const mw = builtins.flatMap((p, i) => (p.middleware && BUILTINS[i]!.kinds.includes(kind) ? [toFn(p.middleware) as MiddlewareFn<C>] : []));
    return mw.length ? compose([...mw, own]) : own;
  };
  return { message: pipeline("message"), presence: pipeline("presence"), iq: pipeline("iq") };
}

/** The context members each plugin (`Plugin.context`) and then the host (`RuntimeOptions.context`) declare, with their owner's name. */
export function declaredExtensions<C extends Context>(plugins: readonly Plugin<C>[], host: RuntimeOptions["context"]): DeclaredExtension[] {
  return [
    ...plugins.flatMap((p) => (p.context ? [{ owner: `plugin "${p.name}"`, members: p.context }] : [])),
    ...Object.entries(host ?? {}).map(([owner, members]) => ({ owner, members })),
  ];
}
