/**
 * A TypeScript bot compiled in-process with esbuild instead of through tsx's loader hooks (which
 * run a loader thread: start-up time): the bot's own files are bundled into one ES module with an
 * inline source map, its packages left as imports, and the result cached beside its packages
 * (`node_modules/.cache/botrun/<hash>.mjs`, where the bot's bare imports resolve the same) until one
 * of its inputs (its files, its tsconfig.json) changes size or mtime. A bot the bundle cannot serve faithfully (it uses
 * `import.meta`, `require`, `__dirname`, or does not bundle) gets undefined: the caller uses tsx.
 */
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { BotLoadError, codeFrame } from "./bot-load-error.ts";

/** What a cached build depends on: each input file's size and mtime, and whether tsx must run the bot instead. */
interface Manifest {
  inputs: Array<[file: string, size: number, mtimeMs: number]>;
  tsx: boolean;
}

/** Identifies the compiler and its settings in the cache key (a change makes new cache files). */
const BUILD_ID = "botrun-esbuild-1";
/** Output the bundle cannot keep meaning the same as in the bot's own file: tsx runs such a bot. */
const NEEDS_TSX = /\bimport\.meta\b|\b__dirname\b|\b__filename\b|\b__require\b/;

/** The cache folder for a bot file: under the nearest node_modules above it, else undefined (nowhere its imports resolve the same). */
export function cacheDirFor(file: string): string | undefined {
  for (let d = path.dirname(file); ; d = path.dirname(d)) {
    if (path.basename(d) !== "node_modules" && existsSync(path.join(d, "node_modules"))) return path.join(d, "node_modules", ".cache", "botrun");
    if (path.dirname(d) === d) return undefined;
  }
}

/** `name` in `dir` or the nearest folder above it that has one. */
function nearest(dir: string, name: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, name))) return path.join(d, name);
    if (path.dirname(d) === d) return undefined;
  }
}

/** True when `dir`, or the nearest folder above it that exists, may be written. */
function writable(dir: string): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(d)) {
      try {
        accessSync(d, constants.W_OK);
        return true;
      } catch {
        return false;
      }
    }
    if (path.dirname(d) === d) return false;
  }
}

/** True when every input still has the size and mtime it was built from. */
function fresh(m: Manifest): boolean {
  try {
    return m.inputs.every(([f, size, mtime]) => {
      const s = statSync(f);
      return s.size === size && s.mtimeMs === mtime;
    });
  } catch {
    return false;
  }
}

/**
 * The compiled module to import for TypeScript bot `file`, or undefined when tsx should load it.
 * Throws a {@link BotLoadError} (file:line:column and a code frame) when the bot does not compile.
 */
export async function compileBot(file: string, version: string): Promise<string | undefined> {
  const dir = cacheDirFor(file);
  if (!dir) return undefined;
  const key = createHash("sha256").update(`${BUILD_ID}\0${version}\0${process.version}\0${file}`).digest("hex").slice(0, 24);
  const out = path.join(dir, `${key}.mjs`);
  const manifestFile = path.join(dir, `${key}.json`);
  try {
    const m = JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest;
    if (fresh(m)) return m.tsx ? undefined : out;
  } catch {
    /* no cache yet */
  }
  if (!writable(dir)) return undefined; // a read-only install (a service user under /opt): tsx, without a build that could not be kept
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch {
    return undefined;
  }
  let result: import("esbuild").BuildResult<{ metafile: true; write: false }>;
  try {
    result = await esbuild.build({
      entryPoints: [file],
      absWorkingDir: path.dirname(file),
      bundle: true,
      packages: "external",
      format: "esm",
      platform: "node",
      target: `node${process.versions.node}`,
      sourcemap: "inline",
      sourcesContent: false,
      metafile: true,
      write: false,
      outfile: out,
      logLevel: "silent",
    });
  } catch (error) {
    const syntax = syntaxError(error, path.dirname(file));
    if (syntax) throw syntax;
    return undefined; // e.g. an import esbuild cannot bundle: tsx loads it as Node would
  }
  const code = result.outputFiles[0]?.text ?? "";
  // The bundled files, and the tsconfig.json esbuild read its settings from (decorators, JSX…).
  const tsconfig = nearest(path.dirname(file), "tsconfig.json");
  const inputs = [...Object.keys(result.metafile.inputs).map((f) => path.resolve(path.dirname(file), f)), ...(tsconfig ? [tsconfig] : [])].map(
    (abs): Manifest["inputs"][number] => {
      const s = statSync(abs);
      return [abs, s.size, s.mtimeMs];
    },
  );
  const manifest: Manifest = { inputs, tsx: NEEDS_TSX.test(code) };
  try {
    mkdirSync(dir, { recursive: true });
    // Written under temporary names, then renamed: another botrun starting at once reads a whole file or none.
    const tmp = `.${process.pid}.${Date.now()}`;
    if (!manifest.tsx) {
      writeFileSync(out + tmp, code);
      renameSync(out + tmp, out);
    }
    writeFileSync(manifestFile + tmp, JSON.stringify(manifest));
    renameSync(manifestFile + tmp, manifestFile);
  } catch {
    return undefined; // could not be written after all: tsx
  }
  return manifest.tsx ? undefined : out;
}

/** esbuild's first error with a location in the bot's files, as the user-facing BotLoadError (exit 2). */
function syntaxError(error: unknown, base: string): BotLoadError | undefined {
  const errors = (error as { errors?: import("esbuild").Message[] } | undefined)?.errors ?? [];
  const first = errors.find((e) => e.location && !/^Could not resolve /.test(e.text));
  if (!first?.location) return undefined;
  const { file, line, column } = first.location;
  const abs = path.resolve(base, file);
  let frame = "";
  try {
    frame = codeFrame(readFileSync(abs, "utf8"), line, column + 1);
  } catch {
    /* the location alone */
  }
  return new BotLoadError(`botrun: ${abs}:${line}:${column + 1}: ${first.text}`, frame, 2);
}
