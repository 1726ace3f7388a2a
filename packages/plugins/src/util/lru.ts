/** A small LRU map: a `Map` that forgets its least recently used entry past `max` entries. */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  constructor(readonly max: number) {
    if (!(max >= 1)) throw new RangeError("LruMap max must be >= 1");
  }

  /** Get and mark as recently used. */
  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  /** Set and mark as recently used, evicting the oldest entry when full. */
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value as K);
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  get size(): number {
    return this.#map.size;
  }

  clear(): void {
    this.#map.clear();
  }

  entries(): IterableIterator<[K, V]> {
    return this.#map.entries();
  }
}
