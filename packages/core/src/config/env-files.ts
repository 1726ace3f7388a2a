/** Loading `.env` files with dotenv, never overriding variables already set in the real environment. */
import { existsSync } from "node:fs";
import { config as dotenvConfig } from "dotenv";
import { ConfigError } from "./errors.ts";

/**
 * Load each existing file in order into `target` (default `process.env`). Earlier files and the real
 * environment win. Returns the files actually loaded. A file that exists but cannot be parsed is a ConfigError.
 */
export function loadEnvFiles(paths: readonly string[], target: Record<string, string | undefined> = process.env): string[] {
  const loaded: string[] = [];
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const res = dotenvConfig({ path, processEnv: target as Record<string, string>, override: false, quiet: true });
    if (res.error) throw new ConfigError(path, "a readable .env file", (res.error as NodeJS.ErrnoException).code);
    loaded.push(path);
  }
  return loaded;
}
