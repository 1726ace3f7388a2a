// The handler watchdog: finished pipelines release at once and never time out; stuck ones time out in order.
import { describe, expect, it } from "vitest";
import { HandlerWatchdog } from "./handler-watchdog.ts";

const never = new Promise<void>(() => {});

describe("HandlerWatchdog", () => {
  it("releases a waiter when its work settles (fulfilled or rejected), without a timeout", async () => {
    const w = new HandlerWatchdog(60_000);
    const timedOut: string[] = [];
    await w.watch(Promise.resolve(), () => timedOut.push("a"));
    await w.watch(Promise.reject(new Error("x")), () => timedOut.push("b"));
    expect(timedOut).toEqual([]);
    expect(w.size).toBe(0);
    w.close();
  });

  it("times out stuck work in start order, once each, and leaves finished work alone", async () => {
    const w = new HandlerWatchdog(20);
    const timedOut: string[] = [];
    let finishB!: () => void;
    const b = new Promise<void>((r) => (finishB = r));
    const pa = w.watch(never, () => timedOut.push("a"));
    const pb = w.watch(b, () => timedOut.push("b"));
    const pc = w.watch(never, () => timedOut.push("c"));
    finishB();
    await pb;
    expect(w.size).toBe(2);
    await Promise.all([pa, pc]);
    expect(timedOut).toEqual(["a", "c"]);
    expect(w.size).toBe(0);
    // Work added after the list emptied arms the timer again.
    await w.watch(never, () => timedOut.push("d"));
    expect(timedOut).toEqual(["a", "c", "d"]);
    w.close();
  });

  it("releases the waiter even when onTimeout throws", async () => {
    const w = new HandlerWatchdog(10);
    const p = w.watch(never, () => {
      throw new Error("listener");
    });
    const second = w.watch(never, () => {});
    await expect(Promise.race([p.then(() => "released"), never])).resolves.toBe("released");
    await second;
    w.close();
  });
});
