// README examples kept as fixtures: a fixture's text (its first line, a comment, left out) and the README it must appear in.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The README's text. */
export const readme = (): string => readFileSync(path.join(ROOT, "README.md"), "utf8");

/** `test/offline/fixtures/<name>` without its first line, trimmed: the code the README shows. */
export function fixtureCode(name: string): string {
  return readFileSync(path.join(ROOT, "test/offline/fixtures", name), "utf8").split("\n").slice(1).join("\n").trim();
}
