/** Options and events of `BotRuntime`. */
import type { Element } from "@xmpp/xml";
import type { Context } from "../context.ts";
import type { Logger } from "../logger.ts";
import type { ContextExtension } from "./context-class.ts";

/** Options of `BotRuntime`. */
export interface RuntimeOptions {
  logger?: Logger;
  /** Development mode: warn about middlewares that forgot `await next()`. Default: NODE_ENV !== "production". */
  dev?: boolean;
  /**
   * How long `stop()` waits for running handlers and then plugins' `stop` hooks (each gets what is
   * left, at least 1 s; one still running after that is logged and left behind). Default 10 s.
   */
  drainTimeoutMs?: number;
  /** Handle each chat's stanzas in arrival order (default true). */
  sequential?: boolean;
  /**
   * With `sequential`: stanzas with the same key are handled one after another, different keys
   * concurrently. Default: the chat (`ctx.chat || ctx.from`); a sender's IQs have a queue of their own. A constant key handles everything in
   * arrival order (the CLI does this for piped terminal input).
   */
  sequenceKey?: (ctx: Context) => string;
  /**
   * After this long a handler still running is logged and its chat's queue moves on, so one
   * stuck handler cannot block a conversation forever (it keeps running, and counts in the backlog
   * until it finishes). Default 60 s; 0 = never.
   */
  handlerTimeoutMs?: number;
  /**
   * The bound of the inbound backlog: stanzas received and not yet finished (queued behind their
   * chat, running, or outliving the handler timeout) plus the replies plugins hold back (the
   * throttle's queue, `Plugin.queued()`). At this many the transport is asked to stop reading
   * (`Transport.setInboundPressure`: the XMPP transport stops reading the socket, so further
   * stanzas wait at the server, unacknowledged); at half of it, it reads again. Nothing accepted
   * is dropped. A transport that cannot pause (the console) gets a hard cap of 10 × this on the
   * backlog instead: past it new stanzas are refused (a `dropped` event, reason `backlog-full`,
   * one warning per 10 s). Default 1000.
   */
  maxBacklog?: number;
  /** The operating system reported in XEP-0092 software-version replies; not reported by default. */
  versionOs?: string;
  /**
   * Members the host running the bot adds to every context, beside the plugins' (`Plugin.context`):
   * e.g. the fleet's `ctx.account`. Keys name who declares them (in the error on a name clash).
   */
  context?: Readonly<Record<string, ContextExtension>>;
}

/** Events of the runtime, for metrics and tests. */
export interface RuntimeEvents {
  /** A stanza finished its trip through the pipeline. */
  handled: { ctx: Context; durationMs: number; error: unknown };
  /** A handler threw or rejected. */
  "handler-error": { error: unknown; stanza: Element };
  /** A stanza was handed to the transport (after the send transformers). */
  sent: Element;
  /** A stanza was dropped before the pipeline (own echo, malformed, stopping). */
  dropped: { reason: string; stanza: Element };
  /** The runtime stopped. */
  stopped: { exitCode: number };
}
