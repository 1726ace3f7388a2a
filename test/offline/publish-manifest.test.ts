// The published manifests: the workspace's "@botrun/source" export condition (serving src/, which
// the tarballs do not ship) is left out of what `pnpm pack` writes (publishConfig.exports), which
// is otherwise the same map.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/botrun-cli.ts";

type Exports = Record<string, string | Record<string, string>>;
interface Manifest {
  name: string;
  exports?: Exports;
  publishConfig?: { exports?: Exports };
}

/** `exports` without the "@botrun/source" condition. */
const withoutSource = (e: Exports): Exports =>
  Object.fromEntries(Object.entries(e).map(([k, v]) => [k, typeof v === "string" ? v : Object.fromEntries(Object.entries(v).filter(([c]) => c !== "@botrun/source"))]));

const manifests = readdirSync(path.join(ROOT, "packages")).map((d) => JSON.parse(readFileSync(path.join(ROOT, "packages", d, "package.json"), "utf8")) as Manifest);

describe("published manifests", () => {
  it.each(manifests.filter((m) => JSON.stringify(m.exports ?? {}).includes("@botrun/source")).map((m) => [m.name, m] as const))(
    "%s publishes its exports without the @botrun/source condition",
    (_name, m) => {
      expect(m.publishConfig?.exports).toEqual(withoutSource(m.exports!));
      expect(JSON.stringify(m.publishConfig?.exports)).not.toMatch(/@botrun\/source|\.\/src\//);
    },
  );
});
