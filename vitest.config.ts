// Test projects: "offline" (unit tests beside the code, the test kit, CLI/console e2e) and
// "real" (integration and end-to-end suites against real Prosody, OAuth and Redis servers).
import { defineConfig } from "vitest/config";

// The workspace runs @botrun/* from their TypeScript sources: their package.json `exports` serve
// `src/` under the "@botrun/source" condition (published builds serve `dist/`). Vitest's defaults
// for Node are ["node", "development|production"].
const resolve = { conditions: ["@botrun/source", "node", "development|production"] };
const workspaceSources = { resolve, ssr: { resolve } };

export default defineConfig({
  test: {
    projects: [
      {
        ...workspaceSources,
        test: {
          name: "offline",
          // Projects with different group orders run one after the other: the real-server suites
          // do not compete for the 2 cores with the offline ones (spawned CLI processes).
          sequence: { groupOrder: 0 },
          include: ["packages/*/src/**/*.test.ts", "bots/*/**/*.test.ts", "test/offline/**/*.test.ts"],
          typecheck: { enabled: true, include: ["packages/*/src/**/*.type.test.ts"], tsconfig: "./tsconfig.typetests.json" },
          testTimeout: 20_000,
        },
      },
      {
        ...workspaceSources,
        test: {
          name: "real",
          sequence: { groupOrder: 1 },
          include: ["test/real/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
