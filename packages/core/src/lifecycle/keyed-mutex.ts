/**
 * The queue of one key. Kept while the key is in use (a registered service
 * holds on to its lane), so taking and giving back a free key touches no map.
 */
export class Lane {
  readonly key: string;
  held = false;
  /** Waiters in arrival order; created on first contention. */
  waiting: (() => void)[] | undefined;
  /** Drop the lane from the map once it is free (see `KeyedMutex.forget`). */
  forget = false;

  constructor(key: string) {
    this.key = key;
  }
}

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
  readonly #lanes = new Map<string, Lane>();

  /** The lane of `key` (created if needed); callers may keep it to skip the lookup next time. */
  lane(key: string): Lane {
    let lane = this.#lanes.get(key);
    if (lane === undefined) this.#lanes.set(key, (lane = new Lane(key)));
    lane.forget = false;
    return lane;
  }

  /** Runs `work` once every earlier holder of `key` has finished; settles as `work` does. */
  run<T>(key: string | Lane, work: () => T | Promise<T>): Promise<T> {
    const lane = typeof key === "string" ? this.lane(key) : key;
    if (!lane.held) {
      lane.held = true;
      return this.#runHeld(lane, work);
    }
    const waiting = (lane.waiting ??= []);
    return new Promise<T>((resolve, reject) => {
      waiting.push(() => {
        this.#runHeld(lane, work).then(resolve, reject);
      });
    });
  }

  /** Runs `work` only if nothing holds `key` now; `undefined` (without running it) otherwise. */
  tryRun<T>(key: string, work: () => T | Promise<T>): Promise<T> | undefined {
    return this.isLocked(key) ? undefined : this.run(key, work);
  }

  /** Takes `key` if it is free (then the caller must `release` it); `false` when it is held. */
  tryAcquire(key: string | Lane): boolean {
    const lane = typeof key === "string" ? this.lane(key) : key;
    if (lane.held) return false;
    lane.held = true;
    return true;
  }

  /** Gives `key` to the next waiter, or frees it. */
  release(key: string | Lane): void {
    const lane = typeof key === "string" ? this.#lanes.get(key) : key;
    if (lane === undefined || !lane.held) return;
    const next = lane.waiting?.shift();
    if (next !== undefined) {
      next();
      return;
    }
    lane.held = false;
    if (lane.forget && this.#lanes.get(lane.key) === lane) this.#lanes.delete(lane.key);
  }

  /** True while work for `key` is queued or running. */
  isLocked(key: string): boolean {
    return this.#lanes.get(key)?.held === true;
  }

  /** The key will not be used again (its service was unregistered): drop its lane once it is free. */
  forget(key: string): void {
    const lane = this.#lanes.get(key);
    if (lane === undefined) return;
    if (lane.held) lane.forget = true;
    else this.#lanes.delete(key);
  }

  /** Keys with a lane (held or kept for a registered service). */
  get size(): number {
    return this.#lanes.size;
  }

  #runHeld<T>(lane: Lane, work: () => T | Promise<T>): Promise<T> {
    let result: Promise<T>;
    try {
      result = Promise.resolve(work());
    } catch (error) {
      result = Promise.reject(error as Error);
    }
    const release = (): void => this.release(lane);
    result.then(release, release);
    return result;
  }
}
