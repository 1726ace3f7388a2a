/**
 * The commands plugin: a command router richer than core's `bot.command`. It accepts
 * prefixes (`!help`), direct address (`bot: help`, `@bot help`) and, in one-to-one chats,
 * bare known command words (`help`); in rooms only prefixed or addressed text counts.
 * Commands have aliases, typed arguments with a usage line, per-command help, a
 * generated `help` command, guards (access control) and "did you mean" suggestions.
 *
 * Manners (issue 8.5): in a room, `!word` that is not one of this router's commands is not
 * addressed to this bot (another bot may own it): no "Unknown command" there, only to
 * `nick: word` — and not even then when the message is a XEP-0461 reply to the bot's own message
 * (bots answering bots, issue 9.9). A XEP-0308 correction (`<replace id/>`) of a message that
 * already ran a command does not run it again, unless the command sets `corrections: "run"`;
 * a correction of a message that ran nothing (a typo) is handled as a new message.
 *
 * ```ts
 * const cmds = commands();
 * cmds.command("remind", { description: "Remind me", args: [{ name: "minutes", type: "integer" }, { name: "text", type: "rest" }] },
 *   (ctx) => ctx.reply(`in ${ctx.params.minutes} min: ${ctx.params.text}`));
 * bot.install(cmds);
 * ```
 */
import { compose, RoomNicks, splitArgs, toFn, type Context, type Middleware, type MiddlewareFn, type Plugin } from "@botrun/core";
import { ArgumentError, parseParams, usageOf, validateSpecs, type ArgSpec, type Params, type ParamsOf } from "./args.ts";
import { helpText } from "./help.ts";
import { normalise, parseInvocation } from "./invocation.ts";
import { closest } from "./suggest.ts";
import type { CommandCtx, CommandGuard, CommandInfo, CommandSpec, CommandsOptions } from "./types.ts";
import { interceptSend } from "../util/intercept-send.ts";
import { LruMap } from "../util/lru.ts";
import { repliesToMe } from "../util/room-talk.ts";

export { ArgumentError, usageOf, type ArgSpec, type ArgType, type Params, type ParamsOf } from "./args.ts";
export { closest, editDistance } from "./suggest.ts";
export type { CommandCtx, CommandGuard, CommandInfo, CommandSpec, CommandsOptions, Invocation } from "./types.ts";

interface Entry<C extends Context> {
  info: CommandInfo;
  run: MiddlewareFn<CommandCtx<C, Params>>;
}

/** The commands router; install it with `bot.install(cmds)`. */
export class Commands<C extends Context = Context> implements Plugin<C> {
  readonly name: string;
  readonly #opts: CommandsOptions;
  readonly #byName = new Map<string, Entry<C>>();
  readonly #canonical = new Map<string, Entry<C>>();
  readonly #guards: CommandGuard<C>[] = [];
  readonly #roomNicks = new RoomNicks();
  /** Messages (sender + id) that ran a command, to recognise their XEP-0308 corrections. */
  readonly #ran = new LruMap<string, true>(2000);
  #builtinHelp = false;

  constructor(opts: CommandsOptions = {}) {
    this.#opts = opts;
    this.name = opts.name ?? "commands";
    if (opts.help !== false) {
      this.command("help", { description: "List commands, or explain one", usage: "[command]" }, (ctx) => this.#help(ctx));
      this.#builtinHelp = true;
    }
  }

  /** Register a command. Handlers get `ctx.params` typed after `spec.args`. */
  command<const A extends readonly ArgSpec[]>(
    name: string,
    spec: CommandSpec<A>,
    ...handlers: Middleware<CommandCtx<C, ParamsOf<A>>>[]
  ): this;
  command(name: string, ...handlers: Middleware<CommandCtx<C, Params>>[]): this;
  command(name: string, ...rest: unknown[]): this {
    const spec = (typeof rest[0] === "object" && rest[0] !== null && !("middleware" in rest[0]) ? rest.shift() : {}) as CommandSpec;
    const handlers = rest as Middleware<CommandCtx<C, Params>>[];
    const key = normalise(name);
    if (!key || /\s/.test(key)) throw new TypeError(`invalid command name "${name}"`);
    if (handlers.length === 0) throw new TypeError(`command "${name}" has no handler`);
    if (spec.args) validateSpecs(key, spec.args);
    if (key === "help" && this.#builtinHelp) {
      this.#remove("help"); // a user-defined help replaces the generated one
      this.#builtinHelp = false;
    }
    const names = [key, ...(spec.aliases ?? []).map(normalise)];
    for (const n of names) if (this.#byName.has(n)) throw new TypeError(`command name "${n}" is already taken`);
    const entry: Entry<C> = { info: { name: key, spec }, run: compose(handlers.map(toFn)) };
    this.#canonical.set(key, entry);
    for (const n of names) this.#byName.set(n, entry);
    return this;
  }

  /** Add a guard, checked before every command (and used to hide commands from `help`). */
  guard(guard: CommandGuard<C>): this {
    this.#guards.push(guard);
    return this;
  }

  /** Every registered command, in registration order. */
  list(): CommandInfo[] {
    return [...this.#canonical.values()].map((e) => e.info);
  }

  /** Find a command by name or alias. */
  find(name: string): CommandInfo | undefined {
    return this.#byName.get(normalise(name))?.info;
  }

  /** The usage line of a command, with the first prefix: `!remind <minutes> <text…>`. */
  usage(name: string, prefix = this.#prefixes(undefined)[0] ?? "!"): string {
    const e = this.#byName.get(normalise(name));
    if (!e) return "";
    const u = e.info.spec.usage ?? (e.info.spec.args ? usageOf(e.info.spec.args) : "");
    return `${prefix}${e.info.name}${u ? ` ${u}` : ""}`;
  }

  /** The router middleware (installed by `bot.install`). */
  readonly middleware: MiddlewareFn<C> = (ctx, next) => this.#route(ctx, next);

  async #route(ctx: C, next: () => Promise<void>): Promise<void> {
    this.#roomNicks.track(ctx);
    if (ctx.kind !== "message" || ctx.text === undefined || ctx.type === "error" || ctx.delayed) return next();
    const parsed = parseInvocation(ctx, this.#prefixes(ctx), this.#opts, this.#roomNicks.get(ctx.room));
    if (!parsed) return next();
    const entry = this.#byName.get(parsed.name);
    const corrects = ctx.correction;
    const ranKey = (id: unknown) => `${ctx.from}\u0000${String(id)}`;
    if (corrects !== undefined && this.#ran.get(ranKey(corrects)) && entry?.info.spec.corrections !== "run") {
      ctx.log.debug("correction of a command already run; not running it again", { command: parsed.name });
      return;
    }
    if (!entry) {
      if (parsed.via === "bare" || this.#opts.unknown === "pass") return next();
      // In a room, `!word` is not addressed to us unless it is one of our commands; bots answering bots: no reply.
      if (ctx.room && (parsed.via === "prefix" || repliesToMe(ctx, this.#roomNicks))) return next();
      // Let later handlers (e.g. core `bot.command`) have it; answer only if none replied.
      let replied = false;
      interceptSend(ctx, (el, send) => {
        replied = true;
        return send(el);
      });
      await next();
      if (replied) return;
      const guess = closest(parsed.name, this.#visibleNames());
      const p = this.#prefixes(ctx)[0] ?? "!";
      const typed = clip(parsed.name); // never echo a huge word back (the reply would outgrow the server's stanza limit)
      await ctx.reply(
        guess ? `Unknown command \`${typed}\`. Did you mean \`${p}${guess}\`?` : `Unknown command \`${typed}\`. Say \`${p}help\` for the list.`,
      );
      return;
    }
    const { info } = entry;
    const where = info.spec.where ?? "any";
    if ((where === "chat" && ctx.room) || (where === "room" && !ctx.room)) {
      if (parsed.via === "bare") return next();
      await ctx.reply(`\`${info.name}\` only works ${where === "chat" ? "in a private chat" : "in a room"}.`);
      return;
    }
    const verdict = await this.#check(ctx, info);
    if (verdict !== true) {
      await ctx.reply(verdict);
      return;
    }
    const args = splitArgs(parsed.argsText);
    let params: Params = {};
    if (info.spec.args) {
      try {
        params = parseParams(info.spec.args, args, parsed.argsText);
      } catch (err) {
        if (!(err instanceof ArgumentError)) throw err;
        await ctx.reply(`${capitalise(err.message)}. Usage: ${this.usage(info.name, this.#prefixes(ctx)[0])}`);
        return;
      }
    }
    const cctx = ctx as CommandCtx<C, Params>;
    cctx.command = info.name;
    cctx.args = args;
    cctx.argsText = parsed.argsText;
    cctx.params = params;
    cctx.invocation = { typed: parsed.name, via: parsed.via };
    if (ctx.stanza.attrs.id !== undefined) this.#ran.set(ranKey(ctx.stanza.attrs.id), true);
    if (corrects !== undefined) this.#ran.set(ranKey(corrects), true);
    await entry.run(cctx, next);
  }

  /** Run the guards: `true`, or the refusal text. */
  async #check(ctx: C, info: CommandInfo): Promise<true | string> {
    for (const g of this.#guards) {
      const r = await g(ctx, info);
      if (r === true) continue;
      return typeof r === "string" ? r : `Sorry, you are not allowed to use \`${info.name}\`.`;
    }
    return true;
  }

  #prefixes(ctx: C | undefined): readonly string[] {
    const p = this.#opts.prefix;
    if (p !== undefined) return typeof p === "string" ? [p] : p;
    return ctx?.bot.commandPrefixes ?? ["!"];
  }

  #visibleNames(): string[] {
    const out: string[] = [];
    for (const [n, e] of this.#byName) if (!e.info.spec.hidden) out.push(n);
    return out;
  }

  async #help(ctx: CommandCtx<C, Params>): Promise<void> {
    const source = {
      list: () => this.list(),
      find: (name: string) => this.find(name),
      usage: (name: string, prefix: string) => this.usage(name, prefix),
      allowed: async (info: CommandInfo) => (await this.#check(ctx, info)) === true,
      visibleNames: () => this.#visibleNames(),
    };
    await ctx.reply(await helpText(source, ctx.args[0], this.#prefixes(ctx)[0] ?? "!"));
  }

  #remove(key: string): void {
    for (const [n, e] of this.#byName) if (e.info.name === key) this.#byName.delete(n);
    this.#canonical.delete(key);
  }
}

/** Create a commands router. */
export function commands<C extends Context = Context>(opts: CommandsOptions = {}): Commands<C> {
  return new Commands<C>(opts);
}

/** At most 40 characters of what a user typed, for echoing it back. */
function clip(s: string): string {
  return s.length <= 40 ? s : `${s.slice(0, 40)}…`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
