/** `createTokenStore`: the token store a `BOTRUN_TOKEN_STORE` spec names (file, memory or Redis). */
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AuthConfigError } from "./errors.ts";
import { FileTokenStore } from "./file-store.ts";
import { MemoryTokenStore } from "./memory-store.ts";
import { RedisTokenStore } from "./redis-store.ts";
import type { TokenStore } from "./types.ts";

/**
 * A token store from a spec (usually `BOTRUN_TOKEN_STORE`): undefined/empty → `~/.botrun/tokens`;
 * `file:/path`, `file:///path` or a plain path → `FileTokenStore`; `memory:` → `MemoryTokenStore`;
 * `redis://…` or `rediss://…` → `RedisTokenStore` (shared by a fleet of workers).
 * Other schemes throw `AuthConfigError` naming `BOTRUN_TOKEN_STORE`.
 */
export function createTokenStore(spec: string | undefined): TokenStore {
  const s = spec?.trim();
  if (!s) return new FileTokenStore();
  if (s === "memory:") return new MemoryTokenStore();
  if (s.startsWith("file://")) return new FileTokenStore(fileURLToPath(s));
  if (s.startsWith("file:")) return new FileTokenStore(expandHome(s.slice("file:".length)));
  if (/^rediss?:\/\//i.test(s)) return new RedisTokenStore({ url: s });
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(s);
  if (scheme) {
    throw new AuthConfigError(
      `BOTRUN_TOKEN_STORE: unsupported token store scheme "${scheme[1]}:" (supported: file:, memory:, redis://, rediss://, or a directory path)`,
      "BOTRUN_TOKEN_STORE",
    );
  }
  return new FileTokenStore(expandHome(s));
}

function expandHome(p: string): string {
  if (p === "~") return homedir();
  if (p.startsWith("~/")) return path.join(homedir(), p.slice(2));
  return p;
}
