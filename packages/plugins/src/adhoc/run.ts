/**
 * Running a router command for an ad-hoc request: a synthetic chat message `!name args` from the
 * requester, on a context derived from the iq's (so plugin fields such as `ctx.session` are the
 * same), through the router's own middleware; messages to the requester are captured as the result.
 */
import { jid, message, type BotApi, type Context, type Element } from "@botrun/core";
import type { Commands } from "../commands/index.ts";

/** What the command did: whether its handler ran (guards passed), and the texts it sent the requester. */
export interface AdhocRun {
  ran: boolean;
  replies: string[];
}

/** Run `name` with `argsText` as if `ctx.from` had typed it in a one-to-one chat. */
export async function runAsMessage<C extends Context>(cmds: Commands<C>, ctx: C, name: string, argsText: string): Promise<AdhocRun> {
  const replies: string[] = [];
  const real = ctx.bot;
  // The router's prefix for `name`: its own, or "!" when it uses the bot's (then the bot below has "!").
  const prefix = cmds.usage(name).slice(0, -cmds.usage(name, "").length);
  const capture = async (el: Element): Promise<void> => {
    const to = String(el.attrs.to ?? "");
    const body = el.name === "message" ? el.getChildText("body") : null;
    if (body !== null && (to === ctx.from || to === jid.bare(ctx.from))) replies.push(body);
    else await real.send(el);
  };
  const bot: BotApi = {
    name: real.name,
    get jid() {
      return real.jid;
    },
    commandPrefixes: [prefix],
    transport: real.transport,
    send: capture,
    request: (iq, o) => real.request(iq, o),
    log: real.log,
  };
  const text = `${prefix}${name}${argsText ? ` ${argsText}` : ""}`;
  const stanza = message({ to: ctx.to, type: "chat", body: text });
  stanza.attrs.from = ctx.from;
  const synthetic = Object.create(ctx, {
    stanza: { value: stanza },
    kind: { value: "message" },
    type: { value: "chat" },
    text: { value: text },
    payload: { value: undefined },
    correction: { value: undefined },
    delayed: { value: false },
    room: { value: undefined },
    nick: { value: undefined },
    chat: { value: jid.bare(ctx.from) },
    bot: { value: bot },
    command: { value: undefined, writable: true },
  }) as C;
  await cmds.middleware(synthetic, () => Promise.resolve());
  return { ran: synthetic.command === name, replies };
}
