/** Checking a parsed JSON value is a `TokenSet` (stores read what a file or another process wrote), and copying one. */
import type { TokenSet } from "./types.ts";

/** Validate and copy a parsed JSON value into a `TokenSet`; throws on a wrong shape. */
export function toTokenSet(value: unknown): TokenSet {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
  const v = value as Record<string, unknown>;
  const out: TokenSet = {};
  if (v.accessToken !== undefined) {
    if (typeof v.accessToken !== "string") throw new Error("accessToken is not a string");
    out.accessToken = v.accessToken;
  }
  if (v.refreshToken !== undefined) {
    if (typeof v.refreshToken !== "string") throw new Error("refreshToken is not a string");
    out.refreshToken = v.refreshToken;
  }
  if (v.expiresAt !== undefined) {
    if (typeof v.expiresAt !== "number" || !Number.isFinite(v.expiresAt)) throw new Error("expiresAt is not a number");
    out.expiresAt = v.expiresAt;
  }
  if (v.meta !== undefined) {
    if (v.meta === null || typeof v.meta !== "object") throw new Error("meta is not an object");
    out.meta = {};
    for (const [k, m] of Object.entries(v.meta)) if (typeof m === "string") out.meta[k] = m;
  }
  return out;
}

/** A deep copy of `tokens`, checked like a value read from a store. */
export function cloneTokenSet(tokens: TokenSet): TokenSet {
  return toTokenSet(JSON.parse(JSON.stringify(tokens)));
}
