/** Where the tokens of a consent flow (`botrun auth`: code, paste or device) are written. */
import type { TokenSet, TokenStore } from "./types.ts";

/**
 * Store tokens that a consent flow (code or device) obtained, under `accountKey`: stamped with
 * `meta.obtainedAt`, written in one `save` (the file store writes atomically, mode 0600; any
 * `TokenStore`, such as a fleet account's, can take its place). Warns when there is no refresh token.
 */
export async function storeObtainedTokens(store: TokenStore, accountKey: string, tokens: TokenSet, out: (line: string) => void): Promise<TokenSet> {
  const stored: TokenSet = { ...tokens, meta: { ...tokens.meta, obtainedAt: tokens.meta?.obtainedAt ?? String(Date.now()) } };
  await store.save(accountKey, stored);
  if (!stored.refreshToken) out("warning: the server returned no refresh token (is offline access in the scope?); the bot will need `botrun auth` again when the access token expires");
  return stored;
}
