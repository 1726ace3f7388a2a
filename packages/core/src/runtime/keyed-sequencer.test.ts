// KeyedSequencer: one key's tasks in order, keys in parallel, a failure does not block the key, and idle keys are forgotten.
import { describe, expect, it } from "vitest";
import { KeyedSequencer } from "./keyed-sequencer.ts";

/** A task that finishes when `release()` is called. */
function gate(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

describe("KeyedSequencer", () => {
  it("runs one key's tasks one after another and other keys meanwhile; forgets a key once idle", async () => {
    const seq = new KeyedSequencer();
    const log: string[] = [];
    const a1 = gate();
    const p1 = seq.run("a", () => (log.push("a1 start"), a1.promise.then(() => void log.push("a1 end"))));
    const p2 = seq.run("a", async () => void log.push("a2"));
    const p3 = seq.run("b", async () => void log.push("b1"));
    await p3;
    expect(log).toEqual(["a1 start", "b1"]);
    a1.release();
    await Promise.all([p1, p2]);
    expect(log).toEqual(["a1 start", "b1", "a1 end", "a2"]);
    for (let i = 0; i < 10 && seq.size > 0; i++) await Promise.resolve(); // the key is dropped a few microtasks after its last task
    expect(seq.size).toBe(0);
  });

  it("settles each returned promise with its own task, and a failed task does not block the key", async () => {
    const seq = new KeyedSequencer();
    const failed = seq.run("a", () => Promise.reject(new Error("boom")));
    const next = seq.run("a", async () => 42);
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe(42);
  });
});
