/** A busy key: what waits for it, in arrival order. */
interface Lane {
  readonly waiting: (() => void)[];
}

/** The lane of a key held with nobody waiting: shared, so taking a free key allocates nothing. */
const UNCONTENDED: Lane = Object.freeze({ waiting: Object.freeze([]) as unknown as (() => void)[] });

/**
 * Serializes work per key: work for one key runs one at a time in arrival
 * order; different keys never wait for each other. The kernel keys it by
 * service name so a checkpoint, stop, start or hot swap of one service never
 * overlaps another of the same service.
 *
 * Besides `run`, a key can be taken and given back synchronously
 * (`tryAcquire`/`release`), which lets `startAll` lock a whole level of
 * services without a promise per service.
 */
export class KeyedMutex {
  /** Present while the key is held; removed when it goes idle, so the map does not grow with every name ever used. */
  readonly #lanes = new Map<string, Lane>();

  /** Runs `work` once every earlier holder of `key` has finished; settles as `work` does. */
  run<T>(key: string, work: () => T | Promise<T>): Promise<T> {
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      this.#lanes.set(key, UNCONTENDED);
      return this.#runHeld(key, work);
    }
    if (lane === UNCONTENDED) this.#lanes.set(key, (lane = { waiting: [] }));
    const waiting = lane.waiting;
    return new Promise<T>((resolve, reject) => {
      waiting.push(() => {
        this.#runHeld(key, work).then(resolve, reject);
      });
    });
  }

  /** Runs `work` only if nothing holds `key` now; `undefined` (without running it) otherwise. */
  tryRun<T>(key: string, work: () => T | Promise<T>): Promise<T> | undefined {
    return this.#lanes.has(key) ? undefined : this.run(key, work);
  }

  /** Takes `key` if it is free (then the caller must `release` it); `false` when it is held. */
  tryAcquire(key: string): boolean {
    if (this.#lanes.has(key)) return false;
    this.#lanes.set(key, UNCONTENDED);
    return true;
  }

  /** Gives `key` to the next waiter, or frees it. */
  release(key: string): void {
    const lane = this.#lanes.get(key);
    if (lane === undefined) return;
    const next = lane === UNCONTENDED ? undefined : lane.waiting.shift();
    if (next === undefined) this.#lanes.delete(key);
    else next();
  }

  /** True while work for `key` is queued or running. */
  isLocked(key: string): boolean {
    return this.#lanes.has(key);
  }

  #runHeld<T>(key: string, work: () => T | Promise<T>): Promise<T> {
    let result: Promise<T>;
    try {
      result = Promise.resolve(work());
    } catch (error) {
      result = Promise.reject(error as Error);
    }
    const release = (): void => this.release(key);
    result.then(release, release);
    return result;
  }
}
