/** Small typed parsers for environment values; each throws a `ConfigError` naming the variable. */
import { ConfigError } from "./errors.ts";

/** The raw environment as given to `loadConfig`. */
export type Env = Record<string, string | undefined>;

/** The trimmed value, or undefined when unset or blank. */
export function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** A boolean: 1/true/yes/on or 0/false/no/off. */
export function bool(env: Env, name: string, dflt: boolean): boolean {
  const v = str(env, name);
  if (v === undefined) return dflt;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(name, "a boolean (1/0, true/false, yes/no, on/off)", v);
}

/** A duration given in (possibly fractional) seconds, returned in milliseconds. */
export function seconds(env: Env, name: string, dfltMs: number, min = 0): number {
  const v = str(env, name);
  if (v === undefined) return dfltMs;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new ConfigError(name, `a number of seconds >= ${min}`, v);
  return Math.round(n * 1000);
}

/** A positive integer. */
export function int(env: Env, name: string, dflt: number, min = 1): number {
  const v = str(env, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(name, `an integer >= ${min}`, v);
  return n;
}

/** One of a fixed set of values (case-insensitive match, canonical spelling returned). */
export function oneOf<T extends string>(env: Env, name: string, values: readonly T[]): T | undefined {
  const v = str(env, name);
  if (v === undefined) return undefined;
  const hit = values.find((x) => x.toLowerCase() === v.toLowerCase());
  if (!hit) throw new ConfigError(name, `one of ${values.join(", ")}`, v);
  return hit;
}

/** An absolute URL with one of the given protocols (e.g. `["http:", "https:"]`). */
export function url(env: Env, name: string, protocols: readonly string[]): URL | undefined {
  const v = str(env, name);
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(name, `a URL (${protocols.map((p) => p + "//…").join(" or ")})`, v);
  }
  if (!protocols.includes(u.protocol) || !u.hostname) {
    throw new ConfigError(name, `a URL (${protocols.map((p) => p + "//…").join(" or ")})`, v);
  }
  return u;
}
