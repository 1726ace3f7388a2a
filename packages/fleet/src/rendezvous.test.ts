import { describe, expect, it } from "vitest";
import { ownerOf, weight } from "./rendezvous.ts";

const accounts = Array.from({ length: 2000 }, (_, i) => `bot${i}@example.org`);
const assign = (workers: string[]) => new Map(accounts.map((a) => [a, ownerOf(a, workers)]));

describe("rendezvous assignment", () => {
  it("is deterministic and independent of the member list's order", () => {
    const a = assign(["w1", "w2", "w3"]);
    const b = assign(["w3", "w1", "w2"]);
    expect([...a]).toEqual([...b]);
    expect(weight("x@y", "w1")).toBe(weight("x@y", "w1"));
  });

  it("spreads accounts evenly (each of 4 workers within 20% of M/4)", () => {
    const counts = new Map<string, number>();
    for (const w of assign(["w1", "w2", "w3", "w4"]).values()) counts.set(w!, (counts.get(w!) ?? 0) + 1);
    expect(counts.size).toBe(4);
    for (const n of counts.values()) expect(Math.abs(n - 500)).toBeLessThan(100);
  });

  it("a joining 5th worker takes about M/5, and only moves accounts to itself", () => {
    const before = assign(["w1", "w2", "w3", "w4"]);
    const after = assign(["w1", "w2", "w3", "w4", "w5"]);
    const moved = accounts.filter((a) => before.get(a) !== after.get(a));
    expect(moved.every((a) => after.get(a) === "w5")).toBe(true);
    expect(Math.abs(moved.length - 400)).toBeLessThan(80);
  });

  it("a leaving worker's accounts, and only those, move", () => {
    const before = assign(["w1", "w2", "w3", "w4"]);
    const after = assign(["w1", "w2", "w4"]);
    for (const a of accounts) {
      if (before.get(a) === "w3") expect(after.get(a)).not.toBe("w3");
      else expect(after.get(a)).toBe(before.get(a));
    }
  });

  it("no workers: no owner", () => {
    expect(ownerOf("a@b", [])).toBeUndefined();
  });
});
