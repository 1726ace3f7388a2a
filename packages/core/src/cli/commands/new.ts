/**
 * `botrun new <dir>`: scaffolds a bot project from templates/new (a bot, its tests with the test
 * kit, .env.example, README, .gitignore, package.json pinned to this CLI's @botrun versions, pnpm settings).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ExitCode } from "../../exit-codes.ts";

const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TEMPLATES = path.join(PACKAGE_ROOT, "templates/new");
/** Template file → file in the project (npm never packs a file named .gitignore). */
const FILES: Record<string, string> = {
  "bot.ts": "bot.ts",
  "bot.test.ts": "bot.test.ts",
  "env.example": ".env.example",
  "README.md": "README.md",
  gitignore: ".gitignore",
  "pnpm-workspace.yaml": "pnpm-workspace.yaml",
};
/** The test runner the scaffold's tests use. */
const VITEST = "^3.2.4";

/** Options of `runNew`. */
export interface NewOptions {
  dir: string;
  cwd: string;
  /** Where messages go (default: stdout / stderr). */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** A bot name from a folder name: lower case, letters, digits and dashes. */
export function botNameFor(dir: string): string {
  return path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "bot";
}

/** The botrun repository this CLI runs from (its sources beside it), if any. */
function workspaceRoot(): string | undefined {
  const root = path.resolve(PACKAGE_ROOT, "../..");
  return existsSync(path.join(PACKAGE_ROOT, "src/cli/main.ts")) && existsSync(path.join(root, "pnpm-workspace.yaml")) ? root : undefined;
}

/** The scaffold's package.json: inside the botrun repository the workspace's packages, else this CLI's version. */
function packageJson(name: string, target: string): string {
  const { version } = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string };
  const ws = workspaceRoot();
  const inside = ws !== undefined && !path.relative(ws, target).startsWith("..");
  const botrun = inside ? "workspace:*" : `^${version}`;
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    description: "An XMPP chat bot made with botrun",
    scripts: { start: "botrun .", dev: "botrun dev .", check: "botrun check .", test: "vitest run" },
    dependencies: { "@botrun/core": botrun, "@botrun/plugins": botrun },
    devDependencies: { vitest: VITEST },
  };
  return JSON.stringify(pkg, null, 2) + "\n";
}

/** Create the project; resolves with the exit code (2 when the folder is not empty). */
export function runNew(opts: NewOptions): number {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + "\n"));
  const err = opts.err ?? ((l: string) => process.stderr.write(l + "\n"));
  const target = path.resolve(opts.cwd, opts.dir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    err(`botrun new: ${target} is not empty: give a new folder name`);
    return ExitCode.CONFIG;
  }
  const name = botNameFor(target);
  mkdirSync(target, { recursive: true });
  writeFileSync(path.join(target, "package.json"), packageJson(name, target));
  for (const [from, to] of Object.entries(FILES)) {
    writeFileSync(path.join(target, to), readFileSync(path.join(TEMPLATES, from), "utf8").replaceAll("{{name}}", name));
  }
  const rel = path.relative(opts.cwd, target) || ".";
  out(`Created ${rel}: bot "${name}" (bot.ts), its tests (bot.test.ts), .env.example, README.md.`);
  out(`Next: cd ${rel} && npm install && npm start`);
  return ExitCode.OK;
}
