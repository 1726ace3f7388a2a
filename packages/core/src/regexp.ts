/** Building regular expressions from literal text. */

/** `s` with every RegExp metacharacter escaped, to match it literally inside a `new RegExp(...)`. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
