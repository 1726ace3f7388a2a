// The fingerprint set under the redelivery filter: nothing added is missed while it is remembered
// (through growth from 64 slots and probing past collisions of the slot index), the oldest
// generation is forgotten past the bound, and the all-zero fingerprint is a fingerprint too.
import { describe, expect, it } from "vitest";
import { Fingerprints } from "./fingerprints.ts";

describe("Fingerprints", () => {
  it("everything added is found through many growths; what was never added is not", () => {
    const f = new Fingerprints(100_000);
    const n = 50_000;
    for (let i = 0; i < n; i++) f.add(Math.imul(i, 0x9e3779b1), i);
    let missed = 0;
    for (let i = 0; i < n; i++) if (!f.has(Math.imul(i, 0x9e3779b1), i)) missed++;
    expect(missed).toBe(0);
    let found = 0;
    for (let i = 0; i < n; i++) if (f.has(Math.imul(i, 0x9e3779b1), i + n)) found++;
    expect(found).toBe(0);
  });

  it("fingerprints that share a slot (same first word) are told apart by the second", () => {
    const f = new Fingerprints(1000);
    for (let b = 0; b < 200; b++) f.add(7, b * 2);
    for (let b = 0; b < 200; b++) {
      expect(f.has(7, b * 2)).toBe(true);
      expect(f.has(7, b * 2 + 1)).toBe(false);
    }
  });

  it("remembers the newest generation at least, forgets the one before past the bound", () => {
    const f = new Fingerprints(10);
    for (let i = 0; i < 35; i++) f.add(i, 1);
    // Generations of 10: 0-9 and 10-19 forgotten, 20-29 previous, 30-34 current.
    expect(f.has(9, 1)).toBe(false);
    expect(f.has(19, 1)).toBe(false);
    for (let i = 20; i < 35; i++) expect(f.has(i, 1)).toBe(true);
    // Adding what is there already does not fill a generation.
    for (let k = 0; k < 100; k++) f.add(34, 1);
    expect(f.has(20, 1)).toBe(true);
  });

  it("the all-zero fingerprint and negative words are fingerprints like any other", () => {
    const f = new Fingerprints(10);
    expect(f.has(0, 0)).toBe(false);
    f.add(0, 0);
    expect(f.has(0, 0)).toBe(true);
    f.add(-1, -2);
    expect(f.has(0xffffffff, 0xfffffffe)).toBe(true);
  });
});
