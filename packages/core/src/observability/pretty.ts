/**
 * A small formatter turning pino's JSON lines into readable terminal lines:
 * `12:34:56.789 INFO  [echo] online jid=bot@example.org`. Used instead of pino-pretty (no extra
 * dependency, no worker thread).
 */

const COLORS: Record<string, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[36m",
  info: "\x1b[32m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[35m",
};
const RESET = "\x1b[0m";
const HIDDEN = new Set(["level", "time", "msg", "pid", "hostname", "bot", "component"]);

/** Format one pino JSON line (without its newline in the result). Lines that are not JSON pass through. */
export function formatPretty(line: string, opts: { color?: boolean } = {}): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.replace(/\n$/, "");
  }
  const level = String(rec.level ?? "info");
  const time = typeof rec.time === "string" ? rec.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const tag = [rec.bot, rec.component].filter((v) => v !== undefined).join("/");
  // Errors read as `err=Name: message`, their stack (below the line, indented) without frames of
  // botrun's own pipeline, so a handler's own line is what a reader sees first.
  const stacks: string[] = [];
  const tail = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => {
      if (isErrorShape(v)) {
        const frames = v.stack.split("\n").slice(1).filter((f) => /^\s+at /.test(f) && !INTERNAL_FRAME.test(f));
        if (frames.length) stacks.push(frames.map((f) => `    ${f.trim()}`).join("\n"));
        return `${k}=${JSON.stringify(`${v.name}: ${v.message}`)}`;
      }
      return `${k}=${typeof v === "string" ? (/\s/.test(v) && !v.includes("\n") ? JSON.stringify(v) : v) : JSON.stringify(v)}`;
    })
    .join(" ");
  const lvl = level.toUpperCase().padEnd(5);
  const coloured = opts.color ? `${COLORS[level] ?? ""}${lvl}${RESET}` : lvl;
  const head = `${time} ${coloured} ${tag ? `[${tag}] ` : ""}${String(rec.msg ?? "")}${tail ? " " + tail : ""}`;
  return stacks.length ? `${head}\n${stacks.join("\n")}` : head;
}

/** Stack frames of botrun's own pipeline and of Node's internals: noise under a handler's error. */
const INTERNAL_FRAME = /[/\\]packages[/\\]core[/\\](?:src|dist)[/\\]|[/\\]@botrun[/\\]core[/\\]|\(node:|\bnode:internal/;

function isErrorShape(v: unknown): v is { name: string; message: string; stack: string } {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.message === "string" && typeof e.stack === "string" && typeof e.name === "string";
}
