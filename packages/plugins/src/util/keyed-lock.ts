/** A per-key mutex: `run(key, fn)` runs after every earlier task of the same key. */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Run `task` once earlier tasks of `key` have settled; resolves or rejects with it. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const result = prev.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with queued or running tasks. */
  get size(): number {
    return this.#tails.size;
  }
}
