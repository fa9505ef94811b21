/**
 * Serializes async work per key: work for one key runs one at a time in
 * arrival order; different keys never wait for each other. The kernel keys it
 * by service name so a checkpoint, stop, start or hot swap of one service
 * never overlaps another of the same service.
 */
export class KeyedMutex {
  /** Tail of each key's queue; removed when the key goes idle so the map does not grow. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` once every earlier `run` for `key` has settled; settles as `work` does. */
  run<T>(key: string, work: () => T | Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    const result = previous === undefined ? invoke(work) : previous.then(() => invoke(work));
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

  /** Runs `work` only if nothing holds `key` now; `undefined` (without running it) otherwise. */
  tryRun<T>(key: string, work: () => T | Promise<T>): Promise<T> | undefined {
    return this.#tails.has(key) ? undefined : this.run(key, work);
  }

  /** True while work for `key` is queued or running. */
  isLocked(key: string): boolean {
    return this.#tails.has(key);
  }
}

function invoke<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}
