// The process side of stopping: the log gate writes each distinct line once while stopping (then
// one summary line per repeated message), the stop deadline fires once, exitWhenIdle exits.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createConsoleLogger } from "../logger.ts";
import { EXIT_GRACE_MS, exitWhenIdle, StopDeadline, StopLogGate } from "./process-stop.ts";

afterEach(() => vi.useRealTimers());

describe("StopLogGate", () => {
  it("before closing everything passes; after, each level+message once, then a count", () => {
    const lines: string[] = [];
    const gate = new StopLogGate();
    const log = gate.wrap(createConsoleLogger({ level: "debug", write: (l) => lines.push(l) })).child({ bot: "b" });
    log.error("handler failed", { n: 1 });
    log.error("handler failed", { n: 2 });
    expect(lines).toHaveLength(2);
    gate.close();
    for (let i = 0; i < 16_101; i++) log.error("handler failed", { n: i });
    log.warn("handler failed");
    log.info("stopped");
    log.debug("debug lines are not gated");
    log.debug("debug lines are not gated");
    expect(lines).toHaveLength(2 + 1 + 1 + 1 + 2);
    const summary: string[] = [];
    gate.summary(createConsoleLogger({ write: (l) => summary.push(l) }));
    expect(summary).toEqual(["ERROR repeated while stopping (not logged again) message=handler failed times=16100"]);
  });
});

describe("StopDeadline and exitWhenIdle", () => {
  it("the deadline fires once, after its time, and not when disarmed", () => {
    vi.useFakeTimers();
    const fire = vi.fn();
    const d = new StopDeadline(7000, fire);
    d.arm();
    d.arm();
    vi.advanceTimersByTime(6999);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
    const other = vi.fn();
    const e = new StopDeadline(10, other);
    e.arm();
    e.disarm();
    vi.advanceTimersByTime(100);
    expect(other).not.toHaveBeenCalled();
  });

  it("exitWhenIdle exits with the code after the grace, naming what was left, in one line", () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const exit = vi.fn();
    exitWhenIdle(3, createConsoleLogger({ write: (l) => lines.push(l) }), exit);
    vi.advanceTimersByTime(EXIT_GRACE_MS - 1);
    expect(exit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(exit).toHaveBeenCalledWith(3);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^INFO  exiting: work still pending after the stop is abandoned resources=/);
  });
});
