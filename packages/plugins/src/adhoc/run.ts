/**
 * Running a router command for an ad-hoc request: a synthetic chat message `!name args` from the
 * requester, on a context derived from the iq's (so plugin fields such as `ctx.session` are the
 * same), through the router's own middleware; messages to the requester are captured as the result.
 */
import { jid, message, type BotApi, type Context, type Element } from "@botrun/core";
import type { ArgSpec } from "../commands/args.ts";
import type { Commands } from "../commands/index.ts";

const KEY = "botrun:adhoc";

/**
 * The ad-hoc step a command runs in (`undefined` when it was typed as text): the form values
 * submitted so far (raw XEP-0004 values; booleans `1`/`true`) and `ask`, to answer with another
 * form instead of completing; the command runs again, at `step + 1`, with those values added.
 */
export interface AdhocStep {
  readonly step: number;
  readonly values: ReadonlyMap<string, string>;
  ask(fields: readonly ArgSpec[], title?: string): void;
}

/** The ad-hoc step of a command context, if it runs as an ad-hoc command. */
export function adhocStep(ctx: Context): AdhocStep | undefined {
  return ctx.locals[KEY] as AdhocStep | undefined;
}

/** What the command did: whether its handler ran (guards passed), the texts it sent the requester, a further form it asked. */
export interface AdhocRun {
  ran: boolean;
  replies: string[];
  more?: { fields: readonly ArgSpec[]; title: string | undefined };
}

/** Run `name` with `argsText` as if `ctx.from` had typed it in a one-to-one chat. */
export async function runAsMessage<C extends Context>(
  cmds: Commands<C>,
  ctx: C,
  name: string,
  argsText: string,
  at: { step: number; values: ReadonlyMap<string, string> },
): Promise<AdhocRun> {
  const replies: string[] = [];
  let more: AdhocRun["more"];
  const step: AdhocStep = { ...at, ask: (fields, title) => void (more = { fields, title }) };
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
    locals: { value: { ...ctx.locals, [KEY]: step } },
  }) as C;
  await cmds.middleware(synthetic, () => Promise.resolve());
  return { ran: synthetic.command === name, replies, ...(more ? { more } : {}) };
}
