/**
 * JID patterns for allow/deny lists: an exact bare JID (`alice@example.org`), a whole
 * domain (`*@example.org`), a bare domain (`example.org`, a server or a room service), or `*`.
 */
import { jid } from "@botrun/core";

/** A JID pattern: `alice@example.org`, `*@example.org`, `example.org` or `*`. */
export type JidPattern = string;

/** True when `address` (full or bare) matches `pattern`. Comparison is case-insensitive. */
export function matchJid(pattern: JidPattern, address: string): boolean {
  const p = pattern.trim().toLowerCase();
  if (p === "*") return true;
  const b = jid.bare(address);
  if (p.startsWith("*@")) return jid.domain(b) === p.slice(2);
  if (!p.includes("@")) return b === p;
  return jid.bare(p) === b;
}

/** True when `address` matches any of `patterns`. */
export function matchAny(patterns: readonly JidPattern[], address: string | undefined): boolean {
  if (address === undefined || address === "") return false;
  return patterns.some((p) => matchJid(p, address));
}

/** A policy answering "is this JID allowed?": everyone, nobody, or an allow-list. */
export type JidPolicy = "accept-all" | "deny" | { allow: readonly JidPattern[] };

/** Evaluate a `JidPolicy` for `address`. */
export function policyAllows(policy: JidPolicy, address: string | undefined): boolean {
  if (policy === "accept-all") return true;
  if (policy === "deny") return false;
  return matchAny(policy.allow, address);
}
