/** Command-line style argument splitting for chat commands: spaces separate, quotes group. */

/**
 * Split `text` into arguments. Double or single quotes group words (`"two words"`),
 * a backslash escapes the next character, and an unterminated quote runs to the end.
 */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | undefined;
  let has = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\\" && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'" || ch === "“" || ch === "”") {
      quote = ch === "“" ? "”" : ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has) out.push(cur);
      cur = "";
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

/** A parsed command: name (lower-cased, without prefix), raw argument text and split arguments. */
export interface ParsedCommand {
  name: string;
  argsText: string;
  args: string[];
}

/** Parse `text` as a command with one of `prefixes`; undefined when it is not a command. */
export function parseCommand(text: string, prefixes: readonly string[]): ParsedCommand | undefined {
  const t = text.trimStart();
  for (const p of prefixes) {
    if (!t.startsWith(p)) continue;
    const rest = t.slice(p.length);
    const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
    if (!m) return undefined;
    const argsText = m[2]!.trim();
    return { name: m[1]!.toLowerCase(), argsText, args: splitArgs(argsText) };
  }
  return undefined;
}
