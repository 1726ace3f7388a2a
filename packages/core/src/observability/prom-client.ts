/** prom-client (CommonJS), loaded on first use: importing @botrun/core does not load it (start-up time). */
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import type * as PromClient from "prom-client";

let prom: typeof PromClient | undefined;

/** prom-client, loaded on first use. */
export function promClient(): typeof PromClient {
  if (!prom) {
    // By its real path: required through a symlinked node_modules entry (pnpm), its own
    // dependencies (tdigest) were sometimes not found from the link's location.
    const require = createRequire(import.meta.url);
    prom = require(realpathSync(require.resolve("prom-client"))) as typeof PromClient;
  }
  return prom;
}
