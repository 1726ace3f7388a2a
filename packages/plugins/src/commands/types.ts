/** The commands plugin's public shapes: a command's spec, how it was invoked, the handler's context, guards and the router's options. */
import type { CommandContext, Context } from "@botrun/core";
import type { ArgSpec, Params } from "./args.ts";

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
