/**
 * A bot that does not compile: turns the loader's error (esbuild's "Transform failed" from tsx, or
 * Node's location-less SyntaxError for JavaScript) into `file:line:column: message` and a code frame.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** A bot file that could not be compiled; `detail` is the code frame. */
export class BotLoadError extends Error {
  override readonly name = "BotLoadError";
  constructor(
    message: string,
    /** Lines showing where the error is (may be empty). */
    readonly detail: string,
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

/** The user-facing error for a bot whose import failed, or undefined when it is not a compile error. */
export function describeLoadError(error: unknown, file: string): BotLoadError | undefined {
  if (!(error instanceof Error)) return undefined;
  const loc =
    error.message.startsWith("Transform failed") ? fromTransformError(error) : error.name === "SyntaxError" && /\.[cm]?js$/.test(file) ? fromSyntaxError(error, file) : undefined;
  if (!loc) return undefined;
  let frame = "";
  try {
    if (loc.column > 0) frame = codeFrame(readFileSync(loc.file, "utf8"), loc.line, loc.column);
  } catch {
    /* the file went away: the location alone */
  }
  return new BotLoadError(`botrun: ${loc.file}:${loc.line}${loc.column > 0 ? `:${loc.column}` : ""}: ${loc.message}`, frame);
}
