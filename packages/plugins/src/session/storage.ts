/** The storage contract behind sessions, and the in-memory adapter. */

/** Where session values live. Every method may be sync or async. */
export interface StorageAdapter<T> {
  read(key: string): T | undefined | Promise<T | undefined>;
  write(key: string, value: T): void | Promise<void>;
  delete(key: string): void | Promise<void>;
}

/** Keeps values in a `Map` (lost on restart). Values are stored as JSON copies. */
export class MemoryStorage<T> implements StorageAdapter<T> {
  readonly #map = new Map<string, string>();
  read(key: string): T | undefined {
    const v = this.#map.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  write(key: string, value: T): void {
    this.#map.set(key, JSON.stringify(value));
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
  /** Number of stored keys. */
  get size(): number {
    return this.#map.size;
  }
}

/** An in-memory storage adapter. */
export function memoryStorage<T>(): MemoryStorage<T> {
  return new MemoryStorage<T>();
}
