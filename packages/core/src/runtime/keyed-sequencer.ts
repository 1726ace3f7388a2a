/**
 * Per-key sequencing: tasks with the same key run one after another, different keys in
 * parallel. Keeps one chat's messages in order without serialising the whole bot. Not bounded
 * by itself: the runtime's backlog (backlog.ts, `RuntimeOptions.maxBacklog`) bounds what waits here.
 */
export class KeyedSequencer {
  readonly #tails = new Map<string, Promise<unknown>>();

  /**
   * Run `task` after every earlier task of `key` has settled; the returned promise settles with it.
   * `settled` (optional) is called once the task has settled, either way (the caller's own
   * bookkeeping, on the one derived promise the sequencer makes anyway).
   */
  run<T>(key: string, task: () => Promise<T>, settled?: () => void): Promise<T> {
    const prev = this.#tails.get(key);
    const run = prev ? prev.then(task, task) : task();
    this.#tails.set(key, run);
    // One derived promise per task: it settles after the task and forgets the key if no later task queued.
    const done = this.#forget(key, run, settled);
    run.then(done, done);
    return run;
  }

  /** The settle handler of one task (a returned closure: tsx names no anonymous function). */
  #forget(key: string, run: Promise<unknown>, settled: (() => void) | undefined): () => void {
    return () => {
      if (this.#tails.get(key) === run) this.#tails.delete(key);
      settled?.();
    };
  }

  /** Number of keys with queued or running tasks. */
  get size(): number {
    return this.#tails.size;
  }
}
