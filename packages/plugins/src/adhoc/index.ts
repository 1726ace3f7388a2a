/**
 * The ad-hoc commands plugin (XEP-0050): every command of a commands router is also an ad-hoc
 * command, listed under the `http://jabber.org/protocol/commands` disco node and executable from
 * a client's menu. A command with typed arguments first answers with a XEP-0004 form; the
 * submitted form runs the command through the router itself, so guards, access control and
 * `where` apply as for text, and its replies to the requester become the result's note. A handler
 * may ask for a further form (`adhocStep(ctx)?.ask(fields)`): multi-step commands.
 *
 * ```ts
 * const cmds = commands();
 * bot.install(cmds, adhoc(cmds)); // after session() and access(), so handlers see the same context
 * ```
 */
import { iqError, iqResult, splitArgs, StanzaError, stanzaId, xml, type Context, type DiscoInfo, type Element, type MiddlewareFn, type Plugin } from "@botrun/core";
import { ArgumentError, parseParams, type ArgSpec } from "../commands/args.ts";
import type { Commands, CommandInfo } from "../commands/index.ts";
import { LruMap } from "../util/lru.ts";
import { argsForm, argsText, NS_DATA, submittedValues } from "./form.ts";
import { runAsMessage } from "./run.ts";

export { argsForm, argsText, NS_DATA, submittedValues } from "./form.ts";
export { adhocStep, type AdhocStep } from "./run.ts";

/** XEP-0050 namespace (and the disco node listing the commands). */
export const NS_COMMANDS = "http://jabber.org/protocol/commands";

/** Options of `adhoc()`. */
export interface AdhocOptions {
  /** Open form sessions kept (default 100; the oldest is forgotten first). */
  maxSessions?: number;
  /** A form session expires after this long (default 10 min). */
  sessionTtlMs?: number;
}

/** XEP-0050 §4.6 `<bad-request/>` with `<bad-sessionid/>`. */
class BadSession extends Error {}

/** An open form session: whose, which step, the values submitted so far and the fields asked now. */
interface Session {
  node: string;
  owner: string;
  at: number;
  step: number;
  values: ReadonlyMap<string, string>;
  asking: readonly ArgSpec[];
  title: string;
  instructions: string | undefined;
}

/** Create the ad-hoc commands plugin for `cmds`. */
export function adhoc<C extends Context = Context>(cmds: Commands<C>, opts: AdhocOptions = {}): Plugin<C> {
  const ttl = opts.sessionTtlMs ?? 10 * 60_000;
  const sessions = new LruMap<string, Session>(opts.maxSessions ?? 100);
  const visible = (): CommandInfo[] => cmds.list().filter((c) => !c.spec.hidden);

  const answer = (node: string, sessionid: string, status: string, ...children: Element[]) =>
    xml("command", { xmlns: NS_COMMANDS, node, sessionid, status }, ...children);

  const actions = () => xml("actions", { execute: "complete" }, xml("complete"));
  /** Answer `executing` with the session's current form (and notes), keeping the session. */
  const ask = (id: string, s: Session, notes: Element[] = []): Element => {
    sessions.set(id, { ...s, at: Date.now() });
    return answer(s.node, id, "executing", actions(), ...notes, argsForm(s.title, s.instructions, s.asking));
  };

  const execute = async (ctx: C, node: string, command: Element): Promise<Element> => {
    const info = cmds.find(node);
    if (!info || info.name !== node || info.spec.hidden) throw new StanzaError("item-not-found", "cancel", `no command ${node}`);
    const action = String(command.attrs.action ?? "execute");
    const sid = typeof command.attrs.sessionid === "string" ? command.attrs.sessionid : undefined;
    const specs = info.spec.args ?? [];
    let s: Session | undefined;
    if (sid !== undefined) {
      s = sessions.get(sid);
      // XEP-0050 §4.6: an unknown, expired or someone else's session.
      if (!s || s.node !== node || s.owner !== ctx.from || Date.now() - s.at > ttl) throw new BadSession("unknown or expired session");
      if (action === "cancel") {
        sessions.delete(sid);
        return answer(node, sid, "canceled");
      }
    } else if (action === "cancel") {
      throw new BadSession("no session to cancel");
    }
    const submitted = submittedValues(command);
    const id = sid ?? stanzaId();
    if (!s) {
      s = { node, owner: ctx.from, at: Date.now(), step: 0, values: new Map(), asking: specs, title: info.spec.description ?? info.name, instructions: info.spec.help };
      if (specs.length > 0 && !submitted) return ask(id, s); // first step: ask for the arguments
    }
    const values = new Map([...s.values, ...(submitted ?? [])]);
    const text = argsText(specs, values);
    const missing = s.asking.find((a) => !a.optional && !(values.get(a.name) ?? "").trim());
    try {
      if (missing) throw new ArgumentError(`missing ${missing.name}`);
      if (specs.length > 0) parseParams(specs, splitArgs(text), text);
    } catch (err) {
      if (!(err instanceof ArgumentError)) throw err;
      return ask(id, s, [xml("note", { type: "error" }, err.message)]); // ask again, saying what was wrong
    }
    sessions.delete(id);
    const run = await runAsMessage(cmds, ctx, info.name, text, { step: s.step, values });
    if (!run.ran) throw new StanzaError("forbidden", "auth", run.replies.join("\n") || `not allowed to run ${info.name}`);
    const notes = run.replies.length > 0 ? [xml("note", { type: "info" }, run.replies.join("\n"))] : [];
    if (run.more) {
      // The handler asked for another form (multi-step): keep the values so far, ask the new fields.
      const next: Session = { ...s, step: s.step + 1, values, asking: run.more.fields, title: run.more.title ?? s.title, instructions: undefined };
      return ask(id, next, notes);
    }
    return answer(node, id, "completed", ...notes);
  };

  const middleware: MiddlewareFn<C> = async (ctx, next) => {
    const payload = ctx.kind === "iq" && ctx.type === "set" ? ctx.payload : undefined;
    if (!payload || payload.name !== "command" || payload.attrs.xmlns !== NS_COMMANDS || typeof payload.attrs.node !== "string") return next();
    let result: Element;
    try {
      result = await execute(ctx, payload.attrs.node, payload);
    } catch (err) {
      if (!(err instanceof BadSession)) throw err; // a StanzaError is answered by the runtime
      const el = iqError(ctx.stanza, new StanzaError("bad-request", "modify", err.message));
      el.getChild("error")?.append(xml("bad-sessionid", { xmlns: NS_COMMANDS }));
      await ctx.sendStanza(el);
      return;
    }
    await ctx.sendStanza(iqResult(ctx.stanza, result));
  };

  const nodeInfo = (name: string): DiscoInfo => ({
    identities: [{ category: "automation", type: "command-node", name }],
    features: [NS_COMMANDS, NS_DATA],
  });

  return {
    name: "adhoc",
    features: [NS_COMMANDS],
    middleware,
    disco: {
      items: (node, ctx) =>
        node === NS_COMMANDS ? visible().map((c) => ({ jid: ctx.bot.jid ?? ctx.to, node: c.name, name: c.spec.description ?? c.name })) : undefined,
      info: (node) => {
        if (node === NS_COMMANDS) return { identities: [{ category: "automation", type: "command-list" }], features: [NS_COMMANDS] };
        const c = visible().find((i) => i.name === node);
        return c ? nodeInfo(c.spec.description ?? c.name) : undefined;
      },
    },
  };
}
