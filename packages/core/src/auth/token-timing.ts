/** When a token set is usable and when its refresh is due: the margin before expiry, the pacing of refreshes and the clamp of implausible lifetimes. */
import type { TokenSet } from "./types.ts";

/** Scheduled refreshes are at least this far apart (a hostile `expires_in: 0.001` must not spin). */
export const MIN_REFRESH_INTERVAL_MS = 30_000;
/** Token lifetimes below this (`expires_in` 0, negative, 0.001) are raised to it, with one log line. */
export const MIN_TOKEN_LIFETIME_MS = 1000;
const DEFAULT_MARGIN_MS = 5 * 60_000;

/** How long before expiry to refresh: `marginMs` if set, else min(5 min, 10% of the token's lifetime). */
export function refreshMargin(tokens: TokenSet, marginMs: number | undefined): number {
  if (marginMs !== undefined) return marginMs;
  const { expiresAt, meta } = tokens;
  const obtained = Number(meta?.obtainedAt);
  if (expiresAt === undefined || !Number.isFinite(obtained)) return DEFAULT_MARGIN_MS;
  return Math.min(DEFAULT_MARGIN_MS, Math.max(0, (expiresAt - obtained) / 10));
}

/** The access token if it is not about to expire (it keeps at least half the margin, at most 30 s). */
export function unexpiredToken(tokens: TokenSet, now: number, margin: number): string | undefined {
  const { accessToken, expiresAt } = tokens;
  if (!accessToken) return undefined;
  if (expiresAt === undefined) return accessToken;
  const minValidity = Math.min(30_000, margin / 2);
  return now < expiresAt - minValidity ? accessToken : undefined;
}

/** True while no refresh is due yet. */
export function isFresh(tokens: TokenSet, now: number, margin: number): boolean {
  const { expiresAt } = tokens;
  return expiresAt === undefined || now < expiresAt - margin;
}

/** A refresh's result whose lifetime was below `MIN_TOKEN_LIFETIME_MS`, raised to it, and the lifetime it had. */
export interface ClampedLifetime {
  tokens: TokenSet;
  lifetimeMs: number;
}

/** `got` with an implausibly short lifetime raised to `MIN_TOKEN_LIFETIME_MS`, or undefined if it is plausible. */
export function clampLifetime(got: TokenSet, now: number): ClampedLifetime | undefined {
  if (got.expiresAt === undefined) return undefined;
  const obtained = Number(got.meta?.obtainedAt ?? now);
  const from = Number.isFinite(obtained) ? obtained : now;
  const lifetimeMs = got.expiresAt - from;
  if (lifetimeMs >= MIN_TOKEN_LIFETIME_MS) return undefined;
  return { tokens: { ...got, expiresAt: from + MIN_TOKEN_LIFETIME_MS }, lifetimeMs };
}
