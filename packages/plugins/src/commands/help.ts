/** The text of the commands router's generated `help` command: the list of commands a user may run, or one command explained. */
import { escapeRegExp } from "@botrun/core";
import { normalise } from "./invocation.ts";
import { closest } from "./suggest.ts";
import type { CommandInfo } from "./types.ts";

/** What `help` reads from the router. */
export interface HelpSource {
  /** Every registered command, in registration order. */
  list(): CommandInfo[];
  /** A command by name or alias. */
  find(name: string): CommandInfo | undefined;
  /** The usage line of a command with `prefix`. */
  usage(name: string, prefix: string): string;
  /** Whether the guards let the asking user run `info`. */
  allowed(info: CommandInfo): Promise<boolean>;
  /** Names and aliases of the commands not hidden. */
  visibleNames(): string[];
}

/** The reply to `help [command]`; `p` is the prefix shown. */
export async function helpText(router: HelpSource, asked: string | undefined, p: string): Promise<string> {
  const wanted = asked?.replace(new RegExp(`^${escapeRegExp(p)}`), "");
  if (wanted) {
    const info = router.find(wanted);
    if (!info || !(await router.allowed(info))) {
      const guess = closest(normalise(wanted), router.visibleNames());
      return `No command \`${wanted}\`.${guess ? ` Did you mean \`${p}${guess}\`?` : ""}`;
    }
    const s = info.spec;
    const lines = [router.usage(info.name, p)];
    if (s.description) lines.push(s.description);
    if (s.help) lines.push(s.help);
    if (s.aliases?.length) lines.push(`Aliases: ${s.aliases.join(", ")}`);
    return lines.join("\n");
  }
  const lines: string[] = [];
  for (const info of router.list()) {
    if (info.spec.hidden || !(await router.allowed(info))) continue;
    lines.push(`${router.usage(info.name, p)}${info.spec.description ? ` — ${info.spec.description}` : ""}`);
  }
  return `Commands:\n${lines.join("\n")}\nSay \`${p}help <command>\` for details.`;
}
