/** The `BotApi` a runtime gives every context and plugin host (`ctx.bot`): name, own JID, prefixes, send, request, logger. */
import type { BotApi } from "../context.ts";
import type { Logger } from "../logger.ts";
import type { BotRuntime } from "./runtime.ts";

/** What the api reads from and sends through: the runtime. */
export type ApiOwner = Pick<BotRuntime, "transport" | "send" | "request">;

/** The api of a bot named `name` with `commandPrefixes`, sending through `runtime` (the JID is read live). */
export function botApi(runtime: ApiOwner, name: string, commandPrefixes: readonly string[], log: Logger): BotApi {
  return {
    name,
    get jid() {
      return runtime.transport.jid;
    },
    commandPrefixes,
    transport: runtime.transport.kind,
    send: (stanza) => runtime.send(stanza),
    request: (iq, o) => runtime.request(iq, o),
    log,
  };
}
