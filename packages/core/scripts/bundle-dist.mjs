// Build step after `tsc -b` (which type-checks and emits the .d.ts files): bundles the package's
// entry points into dist/*.mjs with esbuild, code split so that every module exists once (one Bot
// class for the index, the test kit and the CLI), most third-party packages left as imports. A handful of
// files instead of ~100 small modules: Node resolves, reads and links far fewer at start-up. Entries
// keep their paths (dist/index.mjs, dist/cli/main.mjs…); shared code goes to dist/chunks/, the same
// depth as dist/<dir>/, so paths made from import.meta.url ("../../package.json") still point where
// they did. The .mjs names never collide with tsc's per-file .js output (which nothing imports).
import { build } from "esbuild";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
/**
 * Dependencies bundled in, with their own dependencies: CommonJS trees of many small files (pino:
 * 29) whose classes nobody else needs to share. Every other package stays an import (the @xmpp
 * packages' classes are shared with plugins; yargs, prom-client, ioredis and tsx load lazily).
 */
const BUNDLED = ["pino", "dotenv"];
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8"));
const external = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.includes(d));
// The commands are entries too: dev.ts and new.ts find the package from their own import.meta.url.
const commands = readdirSync(`${root}src/cli/commands`).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).map((f) => `src/cli/commands/${f}`);
const result = await build({
  absWorkingDir: root,
  entryPoints: ["src/index.ts", "src/testing/index.ts", "src/cli/main.ts", ...commands],
  outdir: "dist",
  outbase: "src",
  entryNames: "[dir]/[name]",
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  external,
  // The bundled CommonJS code require()s Node's built-in modules.
  banner: { js: 'import { createRequire as __botrunRequire } from "node:module";\nconst require = __botrunRequire(import.meta.url);' },
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  sourcesContent: true,
  metafile: true,
  logLevel: "warning",
});
// Chunk names carry a content hash: the old ones go once the new ones are written (a process
// loading dist/ meanwhile finds either set whole).
const fresh = new Set(Object.keys(result.metafile.outputs).map((f) => f.replace(/^dist\/chunks\//, "")));
for (const f of readdirSync(`${root}dist/chunks`)) if (!fresh.has(f)) rmSync(`${root}dist/chunks/${f}`);
