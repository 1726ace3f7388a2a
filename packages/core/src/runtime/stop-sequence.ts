/**
 * The runtime's stop sequence: pause the transport's inbound side, end pending iq requests, let
 * running handlers finish (bounded), run the plugins' stop hooks, then stop the transport (which
 * flushes its outbox and closes). Each step's failure is logged and the next one runs.
 */
import type { IqRequests } from "../iq/requests.ts";
import { settlesWithin } from "../xmpp/async-util.ts";
import type { HookedPlugin, PluginHosts } from "./plugin-hosts.ts";
import type { BotRuntime } from "./runtime.ts";

/** The runtime being stopped, as the stop sequence sees it (`inflight`: for the line when the drain timed out). */
export type Stoppable = Pick<BotRuntime, "transport" | "log" | "idle" | "inflight">;

/** The runtime's parts the stop sequence ends. */
export interface StopParts {
  requests: IqRequests;
  hosts: PluginHosts;
  /** The budget for the handlers' drain and the plugins' stop hooks together. */
  drainTimeoutMs: number;
  /** The plugins, in install order (read once the handlers drained). */
  plugins: () => readonly HookedPlugin[];
}

/** Run the stop sequence of `runtime`; never rejects. */
export async function stopSequence(runtime: Stoppable, p: StopParts): Promise<void> {
  const { transport, log } = runtime;
  try {
    transport.pauseInbound?.();
  } catch (error) {
    log.error("transport pauseInbound failed", { error });
  }
  // Inbound is paused: a reply to a pending iq request would not be delivered, so a handler or
  // online hook awaiting one (the roster get) would hold the drain until the request's timeout.
  p.requests.close("the bot is stopping");
  const deadline = Date.now() + p.drainTimeoutMs;
  const drained = await settlesWithin(runtime.idle(), p.drainTimeoutMs);
  if (!drained) log.warn("stop: handlers still running after drain timeout", { inflight: runtime.inflight });
  await p.hosts.stop(p.plugins(), deadline);
  try {
    await transport.stop();
  } catch (error) {
    log.error("transport stop failed", { error });
  }
  p.requests.close();
}
