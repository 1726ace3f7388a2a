/**
 * Per-key sequencing: tasks with the same key run one after another, different keys in
 * parallel. Keeps one chat's messages in order without serialising the whole bot. Not bounded
 * by itself: the runtime's backlog (backlog.ts, `RuntimeOptions.maxBacklog`) bounds what waits here.
 */
export class KeyedSequencer {
  readonly #tails = new Map<string, Promise<void>>();

  /** Run `task` after every earlier task of `key`; the returned promise settles with it. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key);
    const run = prev ? prev.then(task) : task();
    // One derived promise per task: it settles after the task and forgets the key if no later task queued.
    const tail: Promise<void> = run.then(
      () => this.#settled(key, tail),
      () => this.#settled(key, tail),
    );
    this.#tails.set(key, tail);
    return run;
  }

  #settled(key: string, tail: Promise<void>): void {
    if (this.#tails.get(key) === tail) this.#tails.delete(key);
  }

  /** Number of keys with queued or running tasks. */
  get size(): number {
    return this.#tails.size;
  }
}
