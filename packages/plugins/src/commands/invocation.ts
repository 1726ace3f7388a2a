/** Reading a command from a message's text: after a prefix (`!x`), after a direct address by one of the bot's names (`bot: x`, `@bot x`), or a bare word in a one-to-one chat. */
import { jid, type Context } from "@botrun/core";
import type { CommandsOptions, Invocation } from "./types.ts";

/** The command word (lower-cased), the text after it and how it was addressed. */
export interface ParsedInvocation {
  name: string;
  argsText: string;
  via: Invocation["via"];
}

/** A command name as looked up: trimmed, lower-cased. */
export function normalise(name: string): string {
  return name.trim().toLowerCase();
}

/** The invocation in `ctx.text`, or undefined if the text does not address a command. `nick`: the bot's nick in `ctx.room`. */
export function parseInvocation(ctx: Context, prefixes: readonly string[], opts: CommandsOptions, nick: string | undefined): ParsedInvocation | undefined {
  const text = ctx.text!.trim();
  let rest: string | undefined;
  let via: Invocation["via"] = "prefix";
  for (const p of prefixes) {
    if (p && text.startsWith(p)) {
      rest = text.slice(p.length);
      break;
    }
  }
  if (rest === undefined) {
    rest = stripAddress(text, addressNames(ctx, opts.names, nick));
    via = "address";
  }
  if (rest === undefined && !ctx.room && opts.bareInChat !== false) {
    rest = text;
    via = "bare";
  }
  if (rest === undefined) return undefined;
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  if (!m) return undefined;
  return { name: normalise(m[1]!), argsText: m[2]!.trim(), via };
}

/** `bot: x`, `bot, x`, `@bot x`, `@bot: x` → `x`. */
function stripAddress(text: string, names: readonly string[]): string | undefined {
  const lower = text.toLowerCase();
  for (const name of names) {
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

/** The names the bot answers to, longest first: the configured ones (default: its name and JID local part), plus its room nick. */
function addressNames(ctx: Context, configured: readonly string[] | undefined, nick: string | undefined): string[] {
  const out = new Set<string>(configured ?? []);
  if (!configured) {
    out.add(ctx.bot.name);
    const l = ctx.bot.jid ? jid.local(ctx.bot.jid) : undefined;
    if (l) out.add(l);
  }
  if (nick) out.add(nick);
  return [...out].sort((a, b) => b.length - a.length);
}
