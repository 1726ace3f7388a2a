/**
 * A bounded set of 64-bit fingerprints that costs the garbage collector nothing per entry: two
 * generations of flat open-addressing tables (a `Uint32Array`, two words a slot), each growing from
 * a few slots as it fills, so an idle account holds about 1 KB. The redelivery filter remembers
 * every inbound message here. As strings in a `Set`, its 20,000 keys were old-space objects the GC
 * copied, marked and later swept (about 1.6 MB per 10,000 messages), which showed in the echo
 * bench's GC pauses and its p99 at 20 in flight.
 */

/** Slots of a new table (a power of two). */
const INITIAL_SLOTS = 64;

/** Remembers up to `perGeneration` fingerprints for sure, at most twice that many. */
export class Fingerprints {
  readonly #perGeneration: number;
  #current = new Table(INITIAL_SLOTS);
  #previous = new Table(INITIAL_SLOTS);

  constructor(perGeneration: number) {
    this.#perGeneration = Math.max(1, perGeneration);
  }

  /** True if the fingerprint `(a, b)` (two 32-bit words) was added and not yet forgotten. */
  has(a: number, b: number): boolean {
    const x = a >>> 0;
    const y = nonZero(a, b);
    return this.#current.has(x, y) || this.#previous.has(x, y);
  }

  /** Remember `(a, b)`; the oldest generation is forgotten once the current one is full. */
  add(a: number, b: number): void {
    if (!this.#current.add(a >>> 0, nonZero(a, b)) || this.#current.size < this.#perGeneration) return;
    this.#previous = this.#current;
    this.#current = new Table(INITIAL_SLOTS);
  }
}

/** (0, 0) marks an empty slot: a fingerprint that is all zeros is stored as (0, 1). */
function nonZero(a: number, b: number): number {
  return (a | b) === 0 ? 1 : b >>> 0;
}

/** One generation: linear probing, grown (doubled and rehashed) past half full. */
class Table {
  #words: Uint32Array;
  #mask: number;
  size = 0;

  constructor(slots: number) {
    this.#words = new Uint32Array(slots * 2);
    this.#mask = slots - 1;
  }

  has(a: number, b: number): boolean {
    const w = this.#words;
    for (let i = slotOf(a, b, this.#mask); ; i = (i + 1) & this.#mask) {
      const x = w[2 * i]!;
      const y = w[2 * i + 1]!;
      if (x === a && y === b) return true;
      if ((x | y) === 0) return false;
    }
  }

  /** False if it was there already. */
  add(a: number, b: number): boolean {
    if (this.has(a, b)) return false;
    if ((this.size + 1) * 2 > this.#mask + 1) this.#grow();
    this.#put(a, b);
    this.size++;
    return true;
  }

  #put(a: number, b: number): void {
    const w = this.#words;
    let i = slotOf(a, b, this.#mask);
    while ((w[2 * i]! | w[2 * i + 1]!) !== 0) i = (i + 1) & this.#mask;
    w[2 * i] = a;
    w[2 * i + 1] = b;
  }

  #grow(): void {
    const old = this.#words;
    this.#words = new Uint32Array(old.length * 2);
    this.#mask = old.length - 1; // old.length / 2 slots before, twice as many now
    for (let i = 0; i < old.length; i += 2) if ((old[i]! | old[i + 1]!) !== 0) this.#put(old[i]!, old[i + 1]!);
  }
}

/** Both words, mixed (so fingerprints that share a word, or any simple pattern, spread out). */
function slotOf(a: number, b: number, mask: number): number {
  let h = (a + Math.imul(b, 0x27d4eb2d)) | 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h & mask;
}
