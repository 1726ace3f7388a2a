/**
 * Access control: admin JIDs and per-command allow/deny rules by user JID or room, with
 * wildcard domains (`*@example.org`). A refused user gets a clear reply, never silence.
 * Plug it into the commands router with `cmds.guard(acl.guard)`, or guard a core
 * `bot.command` handler with `acl.require("deploy")`.
 *
 * In rooms the user is known by the real JID only when the room reveals it (non-anonymous
 * rooms; the rooms plugin puts it in `ctx.locals.realJid`). Without it, user rules cannot
 * match, so a command restricted to users is refused there (safe default).
 */
import { jid, type Context, type MiddlewareFn } from "@botrun/core";
import type { CommandGuard, CommandInfo } from "../commands/index.ts";
import { matchAny, type JidPattern } from "../util/jid-pattern.ts";

/** A rule for one command (or `*` for all). `"admins"` in a user list means the admin JIDs. */
export interface AccessRule {
  /** Users allowed (when given, everyone else is refused). */
  allowUsers?: readonly (JidPattern | "admins")[];
  /** Users refused (checked first). */
  denyUsers?: readonly (JidPattern | "admins")[];
  /** Rooms where the command may be used (when given, other rooms are refused). */
  allowRooms?: readonly JidPattern[];
  /** Rooms where it may not. */
  denyRooms?: readonly JidPattern[];
  /** Allow in one-to-one chats (default true). */
  allowPrivate?: boolean;
  /** Allow in rooms at all (default true). */
  allowInRooms?: boolean;
}

/** Options of `access()`. */
export interface AccessOptions {
  /** Admin JIDs or patterns. Admins pass every user rule (room rules still apply). */
  admins?: readonly JidPattern[];
  /** Rules by command name; `*` applies to commands without their own rule. */
  rules?: Readonly<Record<string, AccessRule>>;
  /** Commands only admins may run (also: commands tagged `admin` in the commands router). */
  adminOnly?: readonly string[];
  /** The refusal text; default "Sorry, you are not allowed to use `cmd` here." */
  deniedMessage?: (command: string, reason: string) => string;
}

/** The user's real bare JID: the sender for chats, `ctx.locals.realJid` for room occupants. */
export function userOf(ctx: Context): string | undefined {
  const real = ctx.locals.realJid;
  if (typeof real === "string" && real) return jid.bare(real);
  if (ctx.room || ctx.chat.includes("/")) return undefined; // room occupant with unknown real JID
  return ctx.from ? jid.bare(ctx.from) : undefined;
}

/** The access-control policy. */
export class AccessControl {
  readonly #opts: AccessOptions;
  constructor(opts: AccessOptions = {}) {
    this.#opts = opts;
  }

  /** True when `who` (a JID, or a context's user) is an admin. */
  isAdmin(who: string | Context | undefined): boolean {
    const address = typeof who === "string" || who === undefined ? who : userOf(who);
    return matchAny(this.#opts.admins ?? [], address);
  }

  /** `true` when `ctx` may run `command`, else the refusal text. */
  check(ctx: Context, command: string, tags: readonly string[] = []): true | string {
    const reason = this.#reason(ctx, command.toLowerCase(), tags);
    if (reason === undefined) return true;
    return this.#opts.deniedMessage?.(command, reason) ?? `Sorry, you are not allowed to use \`${command}\`${reason}.`;
  }

  /** A guard for the commands router: `cmds.guard(acl.guard)`. */
  readonly guard: CommandGuard = (ctx: Context, cmd: CommandInfo) => this.check(ctx, cmd.name, cmd.spec.tags ?? []);

  /** Middleware for a core `bot.command(...)` handler: refuses with a reply, else continues. */
  require(command: string): MiddlewareFn<Context> {
    return async (ctx, next) => {
      const v = this.check(ctx, command);
      if (v === true) return next();
      await ctx.reply(v);
    };
  }

  #reason(ctx: Context, command: string, tags: readonly string[]): string | undefined {
    const user = userOf(ctx);
    const admin = this.isAdmin(user);
    const adminOnly = tags.includes("admin") || (this.#opts.adminOnly ?? []).some((c) => c.toLowerCase() === command);
    if (adminOnly && !admin) return " (admins only)";
    const rules = this.#opts.rules ?? {};
    const rule = rules[command] ?? rules["*"];
    if (!rule) return undefined;
    const room = ctx.room ?? (ctx.chat.includes("/") ? jid.bare(ctx.chat) : undefined);
    if (room) {
      if (rule.allowInRooms === false) return " in rooms";
      if (rule.denyRooms && matchAny(rule.denyRooms, room)) return " in this room";
      if (rule.allowRooms && !matchAny(rule.allowRooms, room)) return " in this room";
    } else if (rule.allowPrivate === false) {
      return " in a private chat";
    }
    if (admin) return undefined;
    const inList = (list: readonly string[]) => list.includes("admins") ? admin || matchAny(list.filter((p) => p !== "admins"), user) : matchAny(list, user);
    if (rule.denyUsers && inList(rule.denyUsers)) return "";
    if (rule.allowUsers && !inList(rule.allowUsers)) return user === undefined ? " here (I cannot see who you are in this room)" : "";
    return undefined;
  }
}

/** Create an access-control policy. */
export function access(opts: AccessOptions = {}): AccessControl {
  return new AccessControl(opts);
}
