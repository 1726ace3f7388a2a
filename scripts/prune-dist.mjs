// After `tsc -b`, delete what dist/ holds for sources that no longer exist (a moved or deleted
// module's old .js/.d.ts/.map would otherwise ship in the tarball). Never touches live outputs, so
// a build running beside tests that load dist/ leaves no gap. Run in a package folder.
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";

const dist = path.resolve("dist");
const src = path.resolve("src");
const OUTPUT = /^(.*?)(\.d\.ts\.map|\.d\.ts|\.m?js\.map|\.m?js)$/;
/** Written whole by another step (core's scripts/bundle-dist.mjs empties it first): not per source. */
const SKIP = new Set([path.join(dist, "chunks")]);

function prune(dir) {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) {
      if (SKIP.has(file)) continue;
      prune(file);
      if (readdirSync(file).length === 0) rmSync(file, { recursive: true });
      continue;
    }
    const m = OUTPUT.exec(name);
    if (!m) continue; // .tsbuildinfo and anything else tsc did not emit per source
    const source = path.join(src, path.relative(dist, dir), `${m[1]}.ts`);
    if (!existsSync(source)) {
      rmSync(file);
      console.log(`prune-dist: removed ${path.relative(process.cwd(), file)} (no ${path.relative(process.cwd(), source)})`);
    }
  }
}

if (existsSync(dist)) prune(dist);
