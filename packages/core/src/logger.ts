/**
 * The logger contract and a small default implementation with secret redaction.
 * Any structured logger (pino, for one) can be adapted to `Logger`.
 */

/** Log levels, lowest first. */
export const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LEVELS)[number];

/** Fields attached to a log line. Never put secrets here; known secret keys are redacted anyway. */
export type LogFields = Record<string, unknown>;

/** What botrun logs through. `child` adds fields to every line. */
export interface Logger {
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const SECRET_KEY = /(pass(word)?|secret|token|authorization|cookie|credential|api[-_]?key)/i;
const known = new Set<string>();
/** Most recent secrets kept; older ones (rotated tokens) fall out so masking stays cheap. */
const MAX_SECRETS = 256;

/** Register a secret value so that it is masked wherever the default logger or `redact` meets it. */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < 4) return;
  known.delete(value);
  known.add(value);
  if (known.size > MAX_SECRETS) known.delete(known.values().next().value as string);
}

/** Mask registered secrets in a string. */
export function redactString(s: string): string {
  let out = s;
  for (const v of known) if (out.includes(v)) out = out.split(v).join("[redacted]");
  return out;
}

/** Deep-copy `value` with secret-looking keys and registered secret values masked. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactString(value);
  if (value === null || typeof value !== "object" || depth > 6) return value;
  if (value instanceof Error) {
    return { name: value.name, message: redactString(value.message), stack: value.stack && redactString(value.stack) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v != null && typeof v !== "object" ? "[redacted]" : redact(v, depth + 1);
  }
  return out;
}

/** Options of the default console logger. */
export interface ConsoleLoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stderr so that stdout stays the bot's own output. */
  write?: (line: string) => void;
  fields?: LogFields;
}

/** A readable one-line-per-event logger writing to stderr; secrets are masked. */
export function createConsoleLogger(opts: ConsoleLoggerOptions = {}): Logger {
  const min = LEVELS.indexOf(opts.level ?? "info");
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const base = opts.fields ?? {};
  const make = (fields: LogFields): Logger => {
    const log = (level: LogLevel) => (msg: string, extra?: LogFields) => {
      if (LEVELS.indexOf(level) < min) return;
      const all = redact({ ...fields, ...extra }) as LogFields;
      const tail = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      write(`${level.toUpperCase().padEnd(5)} ${redactString(msg)}${tail ? " " + tail : ""}`);
    };
    return {
      trace: log("trace"),
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
      child: (more) => make({ ...fields, ...more }),
    };
  };
  return make(base);
}

/** A logger that drops everything. */
export const silentLogger: Logger = createConsoleLogger({ level: "silent" });
