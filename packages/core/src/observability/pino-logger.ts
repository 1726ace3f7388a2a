/**
 * The production logger: pino adapted to core's `Logger` interface. JSON lines for machines
 * (stdout not a terminal, or `BOTRUN_LOG_FORMAT=json`), readable one-line records in a terminal
 * (`pretty`). Secrets are masked twice: by key (pino `redact` paths plus core's secret-key rule)
 * and by value (every string that contains a registered secret, see `registerSecret`).
 */
import pino from "pino";
import { LEVELS, redact, redactString, type LogFields, type Logger, type LogLevel } from "../logger.ts";
import { formatPretty } from "./pretty.ts";

/** Output format of `createPinoLogger`. */
export type LogFormat = "json" | "pretty";

/** Options of `createPinoLogger`. */
export interface PinoLoggerOptions {
  /** Minimum level; default `info`. */
  level?: LogLevel;
  /** Default: `json` unless `isTty` (then `pretty`); `BOTRUN_LOG_FORMAT` is read by the CLI. */
  format?: LogFormat;
  /** Whether the output is a terminal (decides the default format); default: stdout is a TTY. */
  isTty?: boolean;
  /** Where finished lines go (each ends with a newline); default: stderr, synchronously. */
  write?: (line: string) => void;
  /** Fields on every line. */
  fields?: LogFields;
  /** Colours in `pretty` format; default: stderr is a TTY. */
  color?: boolean;
}

/** Keys masked by pino itself, wherever they appear up to two levels deep. */
export const REDACT_PATHS: string[] = (() => {
  const keys = [
    "password", "passwd", "pass", "secret", "token", "accessToken", "refreshToken", "access_token", "refresh_token",
    "clientSecret", "client_secret", "authorization", "Authorization", "cookie", "credentials", "apiKey", "api_key",
  ];
  return [...keys, ...keys.map((k) => `*.${k}`), ...keys.map((k) => `*.*.${k}`)];
})();

/** Choose the format from the environment: `BOTRUN_LOG_FORMAT` wins, else pretty on a terminal. */
export function logFormatFrom(env: Record<string, string | undefined>, isTty = Boolean(process.stdout.isTTY)): LogFormat {
  const f = env.BOTRUN_LOG_FORMAT?.trim().toLowerCase();
  if (f === "json" || f === "pretty") return f;
  return isTty ? "pretty" : "json";
}

/** Create a pino-backed `Logger`. */
export function createPinoLogger(opts: PinoLoggerOptions = {}): Logger {
  const format = opts.format ?? (opts.isTty ?? Boolean(process.stdout.isTTY) ? "pretty" : "json");
  const color = opts.color ?? Boolean(process.stderr.isTTY);
  const sink = opts.write ?? defaultWrite();
  const stream = {
    write(line: string) {
      // Last line of defence: mask registered secret values in the finished line.
      const safe = redactString(line);
      sink(format === "pretty" ? formatPretty(safe, { color }) + "\n" : safe);
    },
  };
  const root = pino(
    {
      level: opts.level && opts.level !== "silent" ? opts.level : opts.level === "silent" ? "silent" : "info",
      base: { pid: process.pid, ...(opts.fields ?? {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redact(obj) as Record<string, unknown>,
      },
    },
    stream,
  );
  return adapt(root);
}

function defaultWrite(): (line: string) => void {
  return (line) => {
    try {
      process.stderr.write(line);
    } catch {
      /* stderr closed: nothing to do */
    }
  };
}

function adapt(p: pino.Logger): Logger {
  const call = (level: Exclude<LogLevel, "silent" | "fatal">) => (msg: string, fields?: LogFields) => {
    if (!p.isLevelEnabled(level)) return;
    if (fields && Object.keys(fields).length) p[level](fields, msg);
    else p[level](msg);
  };
  return {
    trace: call("trace"),
    debug: call("debug"),
    info: call("info"),
    warn: call("warn"),
    error: call("error"),
    child: (fields) => adapt(p.child(redact(fields) as LogFields)),
  };
}

/** True when `level` is a known level name. */
export function isLogLevel(level: string | undefined): level is LogLevel {
  return level !== undefined && (LEVELS as readonly string[]).includes(level);
}
