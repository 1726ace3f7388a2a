// Bounded waits and error text (issue 11.2: one implementation each, shared by the transport and the runtime).
import { describe, expect, it } from "vitest";
import { errorText, settlesWithin } from "./async-util.ts";
import { escapeRegExp } from "../regexp.ts";

describe("settlesWithin", () => {
  it("true when the promise settles in time (a rejection counts, and is not rethrown), false when it does not", async () => {
    expect(await settlesWithin(Promise.resolve(1), 1000)).toBe(true);
    expect(await settlesWithin(Promise.reject(new Error("no")), 1000)).toBe(true);
    expect(await settlesWithin(new Promise(() => {}), 5)).toBe(false);
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
