// Intake back-pressure: watermarks with hysteresis, a pause that outlasts a stalled outbox ends,
// overload logged once per interval; and LogEvery itself.
import { afterEach, describe, expect, it, vi } from "vitest";
import { IntakeGate } from "./intake.ts";
import { LogEvery } from "./log-every.ts";
import { createConsoleLogger } from "../logger.ts";

afterEach(() => void vi.useRealTimers());

function gate() {
  let depth = 0;
  const reads: boolean[] = [];
  const lines: string[] = [];
  let progress = 0;
  const g = new IntakeGate({
    high: 10,
    low: 4,
    checkMs: 100,
    depth: () => depth,
    setReading: (r) => void reads.push(r),
    onProgress: () => void progress++,
    logger: createConsoleLogger({ level: "debug", write: (l) => void lines.push(l) }),
    logIntervalMs: 1000,
  });
  const set = (d: number) => {
    depth = d;
    g.update(d);
  };
  return { g, set, reads, lines, progress: () => progress };
}

describe("IntakeGate", () => {
  it("stops reading at the high-water mark and reads again only at the low-water mark", () => {
    const { g, set, reads } = gate();
    for (let d = 1; d < 10; d++) set(d);
    expect(reads).toEqual([]);
    set(10);
    expect(reads).toEqual([false]);
    expect(g.paused).toBe(true);
    for (const d of [12, 9, 6, 5]) set(d);
    expect(reads).toEqual([false]);
    set(4);
    expect(reads).toEqual([false, true]);
    expect(g.paused).toBe(false);
    expect(g.pauses).toBe(1);
  });

  it("stays paused while the outbox drains; reads again if it stalls; the next inbound stanza pauses again", () => {
    vi.useFakeTimers();
    const { g, set, reads, progress, lines } = gate();
    set(10);
    set(8);
    vi.advanceTimersByTime(100);
    expect(progress()).toBe(1);
    expect(g.paused).toBe(true);
    vi.advanceTimersByTime(100); // no progress: read again (acks and pings must get through)
    expect(reads).toEqual([false, true]);
    expect(g.paused).toBe(false);
    expect(lines.filter((l) => /not draining/.test(l))).toHaveLength(1);
    g.inbound();
    expect(reads).toEqual([false, true, false]);
    set(3);
    expect(reads.at(-1)).toBe(true);
  });

  it("does not pause without a session; the first inbound stanza of the next one does", () => {
    let online = false;
    const reads: boolean[] = [];
    let depth = 0;
    const g = new IntakeGate({ high: 10, low: 4, checkMs: 100, depth: () => depth, setReading: (r) => void reads.push(r), canPause: () => online, logger: createConsoleLogger({ level: "silent" }) });
    depth = 12;
    g.update(12);
    expect(g.paused).toBe(false);
    online = true;
    g.inbound();
    expect(reads).toEqual([false]);
    g.reset();
  });

  it("backlog pressure pauses too; reading resumes only once neither the outbox nor the backlog holds it; a pressure pause does not time out", () => {
    vi.useFakeTimers();
    const { g, set, reads, progress, lines } = gate();
    g.setPressure(true);
    expect(reads).toEqual([false]);
    set(10); // the outbox goes over as well: still one pause
    vi.advanceTimersByTime(1000); // no outbox progress, but the backlog holds the pause: no stall resume
    expect(g.paused).toBe(true);
    expect(progress()).toBeGreaterThanOrEqual(9); // dead-link detection kept quiet meanwhile
    set(4); // the outbox drained; the backlog still holds it
    expect(reads).toEqual([false]);
    g.setPressure(false);
    expect(reads).toEqual([false, true]);
    g.setPressure(true);
    set(12);
    g.setPressure(false); // the outbox still holds it
    expect(reads).toEqual([false, true, false]);
    set(3);
    expect(reads).toEqual([false, true, false, true]);
    expect(lines.filter((l) => /not draining/.test(l))).toHaveLength(0);
  });

  it("backlog pressure without a session pauses the next one's first inbound stanza", () => {
    let online = false;
    const reads: boolean[] = [];
    const g = new IntakeGate({ high: 10, low: 4, checkMs: 100, depth: () => 0, setReading: (r) => void reads.push(r), canPause: () => online, logger: createConsoleLogger({ level: "silent" }) });
    g.setPressure(true);
    expect(reads).toEqual([]);
    online = true;
    g.inbound();
    expect(reads).toEqual([false]);
    g.reset();
  });

  it("logs overload once per interval, with the number of pauses", () => {
    vi.useFakeTimers();
    const { set, lines } = gate();
    for (let i = 0; i < 50; i++) {
      set(10);
      set(4);
    }
    expect(lines.filter((l) => /overloaded/.test(l))).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    set(10);
    const over = lines.filter((l) => /overloaded/.test(l));
    expect(over).toHaveLength(2);
    expect(over[1]).toMatch(/pauses[^0-9]*50/);
  });
});

describe("LogEvery", () => {
  it("writes the first occurrence at once, then one line per interval with the count; flush writes the rest", () => {
    let now = 0;
    const out: number[] = [];
    const l = new LogEvery({ intervalMs: 10, write: (n) => void out.push(n), now: () => now });
    l.hit();
    l.hit();
    l.hit();
    expect(out).toEqual([1]);
    now = 10;
    l.hit();
    expect(out).toEqual([1, 3]);
    l.hit();
    l.flush();
    expect(out).toEqual([1, 3, 1]);
    l.flush();
    expect(out).toEqual([1, 3, 1]);
  });
});
