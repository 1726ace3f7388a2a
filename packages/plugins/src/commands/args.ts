/**
 * Typed argument specs for commands: declare `[{ name: "minutes", type: "integer" }, …]`
 * and get `ctx.params.minutes: number`, a generated usage line, and clear errors.
 */

/** Argument types. `rest` takes every remaining word as one string. */
export type ArgType = "string" | "number" | "integer" | "boolean" | "rest";

/** One positional argument. */
export interface ArgSpec {
  readonly name: string;
  /** Default `string`. */
  readonly type?: ArgType;
  /** Optional arguments must come after required ones. */
  readonly optional?: boolean;
  /** Allowed values (compared case-insensitively; the canonical spelling is stored). */
  readonly choices?: readonly string[];
}

type ValueOf<T> = T extends "number" | "integer" ? number : T extends "boolean" ? boolean : string;

/** The `ctx.params` object described by an arg spec list. */
export type ParamsOf<A extends readonly ArgSpec[]> = {
  [K in A[number] as K["name"]]: K["optional"] extends true ? ValueOf<K["type"]> | undefined : ValueOf<K["type"]>;
};

/** Parsed parameters of any command (when the spec is not known statically). */
export type Params = Record<string, string | number | boolean | undefined>;

/** Raised for bad arguments; its message is safe to show to the user. */
export class ArgumentError extends Error {
  override readonly name = "ArgumentError";
}

/** `<when> <text…> [count]` */
export function usageOf(specs: readonly ArgSpec[]): string {
  return specs
    .map((s) => {
      const label = s.choices ? s.choices.join("|") : s.name;
      const inner = s.type === "rest" ? `${label}…` : label;
      return s.optional ? `[${inner}]` : `<${inner}>`;
    })
    .join(" ");
}

/** Check a spec list at registration time. */
export function validateSpecs(command: string, specs: readonly ArgSpec[]): void {
  let optionalSeen = false;
  specs.forEach((s, i) => {
    if (s.type === "rest" && i !== specs.length - 1) throw new TypeError(`command "${command}": rest argument "${s.name}" must be last`);
    if (s.optional) optionalSeen = true;
    else if (optionalSeen) throw new TypeError(`command "${command}": required argument "${s.name}" follows an optional one`);
  });
}

const TRUE = new Set(["yes", "y", "true", "on", "1"]);
const FALSE = new Set(["no", "n", "false", "off", "0"]);

/** Parse split words (and the raw text for a `rest` argument) against `specs`. */
export function parseParams(specs: readonly ArgSpec[], args: readonly string[], argsText: string): Params {
  const out: Params = {};
  for (let i = 0; i < specs.length; i++) {
    const s = specs[i]!;
    if (s.type === "rest") {
      const rest = args.slice(i);
      if (rest.length === 0) {
        if (!s.optional) throw new ArgumentError(`missing <${s.name}>`);
        out[s.name] = undefined;
      } else {
        out[s.name] = i === 0 ? argsText : rest.join(" ");
      }
      return out;
    }
    const raw = args[i];
    if (raw === undefined) {
      if (!s.optional) throw new ArgumentError(`missing <${s.name}>`);
      out[s.name] = undefined;
      continue;
    }
    out[s.name] = convert(s, raw);
  }
  if (args.length > specs.length) throw new ArgumentError(`too many arguments (expected at most ${specs.length})`);
  return out;
}

function convert(s: ArgSpec, raw: string): string | number | boolean {
  if (s.choices) {
    const hit = s.choices.find((c) => c.toLowerCase() === raw.toLowerCase());
    if (hit === undefined) throw new ArgumentError(`<${s.name}> must be one of: ${s.choices.join(", ")}`);
    return hit;
  }
  switch (s.type ?? "string") {
    case "number": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) throw new ArgumentError(`<${s.name}> must be a number, got "${clip(raw)}"`);
      return n;
    }
    case "integer": {
      if (!/^[-+]?\d+$/.test(raw)) throw new ArgumentError(`<${s.name}> must be a whole number, got "${clip(raw)}"`);
      return Number.parseInt(raw, 10);
    }
    case "boolean": {
      const l = raw.toLowerCase();
      if (TRUE.has(l)) return true;
      if (FALSE.has(l)) return false;
      throw new ArgumentError(`<${s.name}> must be yes or no, got "${clip(raw)}"`);
    }
    default:
      return raw;
  }
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
