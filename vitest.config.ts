// Test projects: "offline" (unit tests beside the code, the test kit, CLI/console e2e) and
// "real" (integration and end-to-end suites against real Prosody, OAuth and Redis servers).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "offline",
          include: ["packages/*/src/**/*.test.ts", "bots/*/**/*.test.ts", "test/offline/**/*.test.ts"],
          typecheck: { enabled: true, include: ["packages/*/src/**/*.type.test.ts"], tsconfig: "./tsconfig.typetests.json" },
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "real",
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
