// Bounded waits and error text (issue 11.2: one implementation each, shared by the transport and the runtime).
import { describe, expect, it } from "vitest";
import { errorText, settlesWithin, whenTrue } from "./async-util.ts";
import { EventEmitter } from "node:events";
import { escapeRegExp } from "../regexp.ts";

describe("settlesWithin", () => {
  it("true when the promise settles in time (a rejection counts, and is not rethrown), false when it does not", async () => {
    expect(await settlesWithin(Promise.resolve(1), 1000)).toBe(true);
    expect(await settlesWithin(Promise.reject(new Error("no")), 1000)).toBe(true);
    expect(await settlesWithin(new Promise(() => {}), 5)).toBe(false);
  });
});

describe("whenTrue", () => {
  const on = (ee: EventEmitter) => (changed: () => void) => {
    ee.on("change", changed);
    return () => ee.off("change", changed);
  };

  it("resolves at once when the condition holds, without subscribing", async () => {
    const ee = new EventEmitter();
    await whenTrue(() => true, on(ee), 10_000);
    expect(ee.listenerCount("change")).toBe(0);
  });

  it("resolves on the first event after which the condition holds, not before, and unsubscribes", async () => {
    const ee = new EventEmitter();
    let n = 0;
    let done = false;
    const p = whenTrue(() => n >= 2, on(ee), 10_000).then(() => (done = true));
    n = 1;
    ee.emit("change");
    await Promise.resolve();
    expect(done).toBe(false);
    expect(ee.listenerCount("change")).toBe(1);
    n = 2;
    ee.emit("change");
    await p;
    expect(done).toBe(true);
    expect(ee.listenerCount("change")).toBe(0);
  });

  it("resolves after `ms` when the condition never holds, and unsubscribes", async () => {
    const ee = new EventEmitter();
    const t0 = performance.now();
    await whenTrue(() => false, on(ee), 30);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(ee.listenerCount("change")).toBe(0);
  });
});

describe("errorText", () => {
  it("one line: the error's name unless plain Error, then its message; whitespace collapsed", () => {
    expect(errorText(new Error("a\n  b"))).toBe("a b");
    expect(errorText(new TypeError("bad"))).toBe("TypeError: bad");
    expect(errorText("  text \n")).toBe("text");
  });
});

describe("escapeRegExp", () => {
  it("matches the text literally", () => {
    const s = "a.b*c+(d)?[e]{f}|g^h$i\\j";
    expect(new RegExp(`^${escapeRegExp(s)}$`).test(s)).toBe(true);
    expect(new RegExp(escapeRegExp("a.b")).test("axb")).toBe(false);
  });
});
