// The CLI's unhandled-rejection watch: an error line saying it is a bug, a metric, and a listener
// that is removed again (issue 9.2 review: no silent global containment).
import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { createConsoleLogger } from "../logger.ts";
import { UnhandledRejections } from "./unhandled-rejections.ts";

describe("UnhandledRejections", () => {
  it("logs each rejection at error level as a bug and counts it in botrun_unhandled_rejections_total", async () => {
    const lines: string[] = [];
    const watch = new UnhandledRejections(createConsoleLogger({ level: "info", write: (l) => lines.push(l) }));
    const registry = new Registry();
    watch.register(registry);
    const before = process.listenerCount("unhandledRejection");
    watch.install();
    expect(process.listenerCount("unhandledRejection")).toBe(before + 1);
    watch.record(new Error("stray"));
    watch.record("plain reason");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ERROR bug: unhandled rejection .*stray/);
    expect(watch.count).toBe(2);
    expect(await registry.metrics()).toMatch(/^botrun_unhandled_rejections_total 2$/m);
    const again = new UnhandledRejections(createConsoleLogger({ level: "silent" }));
    again.register(registry); // a registry reused by a later run: no "already registered"
    expect(await registry.metrics()).toMatch(/^botrun_unhandled_rejections_total 0$/m);
    watch.uninstall();
    expect(process.listenerCount("unhandledRejection")).toBe(before);
  });
});
