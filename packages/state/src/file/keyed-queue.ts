/**
 * Runs tasks one at a time per key, in call order; different keys run concurrently.
 * This is what makes concurrent saves of one service "last call wins" and keeps a
 * save from interleaving with a load of the same service.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    // Nothing queued for this key: start now rather than a microtask later (the common case,
    // and a few microseconds off every store operation).
    const result = previous === undefined ? start(task) : previous.then(task);
    // The tail never rejects, so one failed task does not poison the ones queued after it.
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
}

/** `task()`, with a synchronous throw turned into the same rejection `previous.then(task)` gives. */
function start<T>(task: () => Promise<T>): Promise<T> {
  try {
    return task();
  } catch (error) {
    // As thrown (never String()-ed here: a thrown value's toString may itself throw).
    return Promise.reject(error as Error);
  }
}
