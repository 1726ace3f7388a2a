#!/usr/bin/env -S node --
// botrun's executable. Installed from a package it runs the compiled CLI (dist/*.mjs, bundled;
// TypeScript bots are compiled by esbuild, cli/compile-bot.ts). In the botrun repository (src/ beside this file) it runs
// the sources through tsx, resolving @botrun/* to their sources (the "@botrun/source" condition).
import { existsSync } from "node:fs";

const source = new URL("../src/cli/main.ts", import.meta.url);
let main;
if (existsSync(source) && process.env.BOTRUN_COMPILED !== "1") {
  const { register } = await import("tsx/esm/api");
  register();
  globalThis[Symbol.for("botrun.tsx")] = new Set(["esm"]);
  const { register: registerHooks } = await import("node:module");
  const hook = "export const resolve = (s, c, next) => next(s, { ...c, conditions: [...c.conditions, '@botrun/source'] });";
  registerHooks(`data:text/javascript,${encodeURIComponent(hook)}`);
  ({ main } = await import(source.href));
} else {
  ({ main } = await import("../dist/cli/main.mjs"));
}
process.exitCode = await main(process.argv.slice(2));
