/**
 * The logger contract and a small default implementation with secret redaction.
 * Any structured logger (pino, for one) can be adapted to `Logger`.
 */
import { escapeRegExp } from "./regexp.ts";

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
/**
 * Long-lived secrets (passwords, client secrets, the current refresh token): kept for the
 * process's life, never evicted. A process has a handful (the refresh token moves to `rotating`
 * once rotated away), so the set is small; registrations beyond `MAX_PINNED` go to `rotating`
 * instead, so that the first ones (the password, the client secret) are never pushed out.
 */
const pinned = new Set<string>();
/** Short-lived secrets (access tokens, rotated refresh tokens): the `MAX_ROTATING` most recently registered (LRU). */
const rotating = new Set<string>();
/** Bound of the short-lived set; the least recently registered (expired access tokens) fall out. */
const MAX_ROTATING = 256;
/** Bound of the long-lived set. */
const MAX_PINNED = 64;
/** Every masked form of every registered secret, longest first, as one pattern; rebuilt lazily. */
let pattern: RegExp | undefined;
let dirty = false;

/** Options of `registerSecret`. */
export interface RegisterSecretOptions {
  /**
   * A short-lived value (an access token, a refresh token that was just rotated away): kept in a
   * bounded most-recent set. Default false: long-lived, masked for the whole life of the process.
   */
  rotating?: boolean;
}

/** Shortest base64 fragment masked inside a larger blob (shorter ones would mask unrelated text). */
const MIN_FRAGMENT = 8;

/**
 * The base64 (or base64url) characters that encode `bytes` wherever they sit inside a larger
 * encoded blob: one string per alignment (0, 1 or 2 bytes before it in its 3-byte group, RFC 4648
 * §4), without the first and last characters, which also carry bits of the neighbouring bytes.
 */
function base64Fragments(bytes: Buffer, enc: "base64" | "base64url"): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const n = k + bytes.length;
    const text = Buffer.concat([Buffer.alloc(k), bytes]).toString(enc).replace(/=+$/, "");
    const frag = text.slice(Math.ceil((8 * k) / 6), Math.floor((8 * n) / 6));
    if (frag.length >= MIN_FRAGMENT) out.push(frag);
  }
  return out;
}

/**
 * The forms in which a secret may show up in text: as is, percent-encoded (encodeURIComponent,
 * upper and lower case hex), form-encoded (`+` for space), base64 (padded and not), base64url, the
 * base64 and base64url characters that encode it inside a larger blob at each of the three
 * alignments (`Basic base64("client_id:secret")`), and JSON-escaped (as inside a JSON log line).
 */
export function secretForms(value: string): string[] {
  const uri = encodeURIComponent(value);
  const form = new URLSearchParams({ v: value }).toString().slice(2);
  const padded = Buffer.from(value, "utf8").toString("base64");
  const b64 = padded.replace(/=+$/, "");
  const b64url = Buffer.from(value, "utf8").toString("base64url");
  const lower = uri.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase());
  const json = JSON.stringify(value).slice(1, -1); // as it appears inside a JSON log line
  const bytes = Buffer.from(value, "utf8");
  const inside = [...base64Fragments(bytes, "base64"), ...base64Fragments(bytes, "base64url")];
  return [...new Set([value, json, uri, lower, form, uri.replace(/%20/g, "+"), padded, b64, b64url, ...inside])];
}

/**
 * Register a secret value so that it is masked (in every form of `secretForms`) wherever the
 * default logger, the pino logger or `redact` meets it. Long-lived by default; pass
 * `{ rotating: true }` for access tokens, and for a refresh token once it has been rotated away.
 */
export function registerSecret(value: string | undefined | null, opts: RegisterSecretOptions = {}): void {
  if (!value || value.length < 4) return;
  const known = pinned.has(value) || rotating.has(value);
  if (opts.rotating) {
    pinned.delete(value);
    rotating.delete(value);
    rotating.add(value);
    if (rotating.size > MAX_ROTATING) {
      rotating.delete(rotating.values().next().value as string);
      dirty = true;
    }
  } else if (rotating.has(value)) {
    // A value already known as short-lived stays so (the transport re-registers the tokens it is handed).
    rotating.delete(value);
    rotating.add(value);
  } else if (!pinned.has(value)) {
    if (pinned.size < MAX_PINNED) pinned.add(value);
    else registerSecret(value, { rotating: true }); // the first long-lived ones are never pushed out
  }
  if (!known) dirty = true;
}

/** Whether `value` is currently masked (tests and diagnostics). */
export function isRegisteredSecret(value: string): boolean {
  return pinned.has(value) || rotating.has(value);
}

function secretPattern(): RegExp | undefined {
  if (dirty || pattern === undefined) {
    dirty = false;
    const forms = new Set<string>();
    for (const set of [pinned, rotating]) for (const v of set) for (const f of secretForms(v)) forms.add(f);
    const sorted = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
    pattern = sorted.length ? new RegExp(sorted.join("|"), "g") : undefined;
  }
  return pattern;
}

/** Mask registered secrets (in every encoded form) in a string. */
export function redactString(s: string): string {
  const re = secretPattern();
  return re ? s.replace(re, "[redacted]") : s;
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
