/**
 * A bot that does not load: turns the loader's error (esbuild's "Transform failed" from tsx, Node's
 * location-less SyntaxError for JavaScript, or an error the module throws while it runs) into
 * `file:line:column: message` and a code frame.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";

/** A bot file that could not be loaded; `detail` is the code frame. */
export class BotLoadError extends Error {
  override readonly name = "BotLoadError";
  constructor(
    message: string,
    /** Lines showing where the error is (may be empty). */
    readonly detail: string,
    /** 2 when the file does not compile (fix it), 1 when it threw while running (a restart may help). */
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A position in a source file; line and column count from 1. */
interface Location {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Lines around `line` with a caret under `column`. */
export function codeFrame(source: string, line: number, column: number): string {
  const lines = source.split(/\r?\n/);
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line + 1);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const text = lines[n - 1] ?? "";
    out.push(`${n === line ? ">" : " "} ${String(n).padStart(width)} | ${text}`);
    if (n === line) out.push(`  ${" ".repeat(width)} | ${text.slice(0, column - 1).replace(/[^\t]/g, " ")}^`);
  }
  return out.join("\n");
}

/** esbuild (through tsx): "Transform failed with 1 error:\n/path/bot.ts:3:52: ERROR: Unexpected \")\"" (0-based column). */
function fromTransformError(error: Error): Location | undefined {
  const m = /^(.+?):(\d+):(\d+): ERROR: (.+)$/m.exec(error.message);
  return m ? { file: m[1]!, line: Number(m[2]), column: Number(m[3]) + 1, message: m[4]! } : undefined;
}

/** Node reports a JavaScript module's SyntaxError without a location: `node --check` finds it. */
function fromSyntaxError(error: Error, file: string): Location | undefined {
  const check = spawnSync(process.execPath, ["--check", file], { encoding: "utf8", timeout: 10_000 });
  const lines = (check.stderr ?? "").split("\n");
  const at = lines.findIndex((l) => l.startsWith(`${file}:`));
  if (at < 0) return undefined;
  const caret = lines[at + 2]?.indexOf("^") ?? -1;
  return { file, line: Number(lines[at]!.slice(file.length + 1)), column: caret + 1, message: error.message };
}

/** An error thrown while the bot's module ran: its first stack frame in the bot's own files (not node_modules). */
function fromStack(error: Error, file: string): Location | undefined {
  const dir = path.dirname(file);
  for (const m of (error.stack ?? "").matchAll(/(?:\(|at )(?:file:\/\/)?(\/[^():\n]+):(\d+):(\d+)\)?$/gm)) {
    const f = decodeURI(m[1]!);
    if (f.startsWith(dir + path.sep) && !f.includes(`${path.sep}node_modules${path.sep}`)) {
      return { file: f, line: Number(m[2]), column: Number(m[3]), message: `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` };
    }
  }
  return undefined;
}

/** The user-facing error for a bot whose import failed (does not compile, or throws while loading), else undefined. */
export function describeLoadError(error: unknown, file: string): BotLoadError | undefined {
  if (!(error instanceof Error)) return undefined;
  const compile = error.message.startsWith("Transform failed") || (error.name === "SyntaxError" && /\.[cm]?js$/.test(file));
  const loc = !compile ? fromStack(error, file) : error.name === "SyntaxError" ? fromSyntaxError(error, file) : fromTransformError(error);
  if (!loc) return undefined;
  let frame = "";
  try {
    if (loc.column > 0) frame = codeFrame(readFileSync(loc.file, "utf8"), loc.line, loc.column);
  } catch {
    /* the file went away: the location alone */
  }
  return new BotLoadError(`botrun: ${loc.file}:${loc.line}${loc.column > 0 ? `:${loc.column}` : ""}: ${loc.message}`, frame, compile ? 2 : 1);
}
