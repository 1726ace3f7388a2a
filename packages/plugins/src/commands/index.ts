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
import { compose, escapeRegExp, jid, NS, RoomNicks, splitArgs, toFn, type CommandContext, type Context, type Middleware, type MiddlewareFn, type Plugin } from "@botrun/core";
import { ArgumentError, parseParams, usageOf, validateSpecs, type ArgSpec, type Params, type ParamsOf } from "./args.ts";
import { closest } from "./suggest.ts";
import { interceptSend } from "../util/intercept-send.ts";
import { LruMap } from "../util/lru.ts";
import { repliesToMe } from "../util/room-talk.ts";

export { ArgumentError, usageOf, type ArgSpec, type ArgType, type Params, type ParamsOf } from "./args.ts";
export { closest, editDistance } from "./suggest.ts";

/** How a command was invoked. */
export interface Invocation {
  /** The name as typed (lower-cased), possibly an alias. */
  readonly typed: string;
  /** `prefix` (`!x`), `address` (`bot: x`, `@bot x`) or `bare` (`x` in a one-to-one chat). */
  readonly via: "prefix" | "address" | "bare";
}

/** The context inside a command handler (`command` is the canonical name, never an alias). */
export type CommandCtx<C extends Context = Context, P = Params> = CommandContext<C> & {
  /** Typed parameters from the command's `args` spec (empty without a spec). */
  params: P;
  invocation: Invocation;
};

/** Options of one command. */
export interface CommandSpec<A extends readonly ArgSpec[] = readonly ArgSpec[]> {
  /** One line for the command list. */
  description?: string;
  /** Longer help shown by `help <command>`. */
  help?: string;
  /** Usage after the command name; generated from `args` when absent. */
  usage?: string;
  aliases?: readonly string[];
  /** Typed positional arguments; without it, arguments are not checked. */
  args?: A;
  /** Leave out of the `help` list. */
  hidden?: boolean;
  /** Where the command may be used (default `any`). */
  where?: "any" | "chat" | "room";
  /** Free tags for guards (e.g. `admin`). */
  tags?: readonly string[];
  /**
   * A XEP-0308 correction of a message that ran this command: `ignore` it (default: the
   * handler ran already) or `run` the handler again with the corrected text.
   */
  corrections?: "ignore" | "run";
}

/** A registered command, as guards and help see it. */
export interface CommandInfo {
  readonly name: string;
  readonly spec: CommandSpec;
}

/**
 * Decides whether `ctx` may run `cmd`: `true` runs it, a string is the refusal sent to the
 * user, `false` refuses with a generic text. Used by the access-control plugin.
 */
export type CommandGuard<C extends Context = Context> = (ctx: C, cmd: CommandInfo) => boolean | string | Promise<boolean | string>;

/** Options of `commands()`. */
export interface CommandsOptions {
  /** Prefixes; default: the bot's `commandPrefix`. */
  prefix?: string | readonly string[];
  /** Names the bot answers to when addressed (`name: cmd`, `@name cmd`); default: bot name, JID local part and room nick. */
  names?: readonly string[];
  /** Accept known command words without prefix in one-to-one chats (default true). */
  bareInChat?: boolean;
  /** Add a `help` command (default true). */
  help?: boolean;
  /** Unknown addressed command: `reply` with a suggestion when no later handler replied (default), or `pass` silently. */
  unknown?: "reply" | "pass";
  /** Plugin name (default `commands`); change it to install two routers. */
  name?: string;
}

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
    const parsed = this.#parse(ctx);
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

  #parse(ctx: C): { name: string; argsText: string; via: Invocation["via"] } | undefined {
    const text = ctx.text!.trim();
    let rest: string | undefined;
    let via: Invocation["via"] = "prefix";
    for (const p of this.#prefixes(ctx)) {
      if (p && text.startsWith(p)) {
        rest = text.slice(p.length);
        break;
      }
    }
    if (rest === undefined) {
      rest = this.#stripAddress(ctx, text);
      via = "address";
    }
    if (rest === undefined && !ctx.room && this.#opts.bareInChat !== false) {
      rest = text;
      via = "bare";
    }
    if (rest === undefined) return undefined;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
    if (!m) return undefined;
    return { name: normalise(m[1]!), argsText: m[2]!.trim(), via };
  }

  /** `bot: x`, `bot, x`, `@bot x`, `@bot: x` → `x`. */
  #stripAddress(ctx: C, text: string): string | undefined {
    const lower = text.toLowerCase();
    for (const name of this.#names(ctx)) {
      const n = name.toLowerCase();
      for (const lead of [`@${n}`, n]) {
        if (!lower.startsWith(lead)) continue;
        const after = text.slice(lead.length);
        const m = lead.startsWith("@") ? /^[:,]?\s+(\S[\s\S]*)$/.exec(after) : /^[:,]\s*(\S[\s\S]*)$/.exec(after);
        if (m) return m[1]!;
      }
    }
    return undefined;
  }

  #names(ctx: C): string[] {
    const out = new Set<string>(this.#opts.names ?? []);
    if (!this.#opts.names) {
      out.add(ctx.bot.name);
      const l = ctx.bot.jid ? jid.local(ctx.bot.jid) : undefined;
      if (l) out.add(l);
    }
    const nick = this.#roomNicks.get(ctx.room);
    if (nick) out.add(nick);
    return [...out].sort((a, b) => b.length - a.length);
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
    const p = this.#prefixes(ctx)[0] ?? "!";
    const wanted = ctx.args[0]?.replace(new RegExp(`^${escapeRegExp(p)}`), "");
    if (wanted) {
      const e = this.#byName.get(normalise(wanted));
      if (!e || (await this.#check(ctx, e.info)) !== true) {
        const guess = closest(normalise(wanted), this.#visibleNames());
        await ctx.reply(`No command \`${wanted}\`.${guess ? ` Did you mean \`${p}${guess}\`?` : ""}`);
        return;
      }
      const s = e.info.spec;
      const lines = [this.usage(e.info.name, p)];
      if (s.description) lines.push(s.description);
      if (s.help) lines.push(s.help);
      if (s.aliases?.length) lines.push(`Aliases: ${s.aliases.join(", ")}`);
      await ctx.reply(lines.join("\n"));
      return;
    }
    const lines: string[] = [];
    for (const e of this.#canonical.values()) {
      if (e.info.spec.hidden || (await this.#check(ctx, e.info)) !== true) continue;
      lines.push(`${this.usage(e.info.name, p)}${e.info.spec.description ? ` — ${e.info.spec.description}` : ""}`);
    }
    await ctx.reply(`Commands:\n${lines.join("\n")}\nSay \`${p}help <command>\` for details.`);
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

function normalise(name: string): string {
  return name.trim().toLowerCase();
}

/** At most 40 characters of what a user typed, for echoing it back. */
function clip(s: string): string {
  return s.length <= 40 ? s : `${s.slice(0, 40)}…`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
