#!/usr/bin/env node
// botrun's executable: registers the TypeScript loader (so bot files need no build step), then runs the CLI.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
