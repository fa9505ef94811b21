// one interval timer for every outgoing call deadline (buckets of 5 ms).
/** Something with an absolute deadline that a {@link DeadlineBuckets} can hold. */
export interface Expiring {
  /** `performance.now()` at which it expires. */
  readonly deadline: number;
  /** The bucket it is in, or -1. Managed by the buckets. */
  bucket: number;
}

/**
 * One timer for every call's deadline: calls sit in buckets of `tickMs` by
 * their deadline, and one interval (running only while something waits)
 * expires the buckets that are due. A call expires 0 to 2 ticks late.
 */
export class DeadlineBuckets<T extends Expiring> {
  readonly #tickMs: number;
  readonly #expire: (item: T) => void;
  readonly #buckets = new Map<number, Set<T>>();
  #size = 0;
  #cursor = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(tickMs: number, expire: (item: T) => void) {
    this.#tickMs = tickMs;
    this.#expire = expire;
  }

  get size(): number {
    return this.#size;
  }

  add(item: T): void {
    if (this.#size === 0) this.#cursor = Math.floor(performance.now() / this.#tickMs);
    // A deadline already due still waits for the next tick (the cursor has passed its own bucket).
    const key = Math.max(Math.ceil(item.deadline / this.#tickMs), this.#cursor + 1);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) this.#buckets.set(key, (bucket = new Set()));
    bucket.add(item);
    item.bucket = key;
    if (this.#size++ === 0) {
      this.#timer = setInterval(this.#tick, this.#tickMs);
      this.#timer.unref();
    }
  }

  remove(item: T): void {
    const key = item.bucket;
    if (key < 0) return;
    item.bucket = -1;
    const bucket = this.#buckets.get(key);
    if (bucket === undefined || !bucket.delete(item)) return;
    if (bucket.size === 0) this.#buckets.delete(key);
    if (--this.#size === 0) this.#stop();
  }

  /** Stops the timer; the items stay (callers answer them). */
  close(): void {
    this.#stop();
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#buckets.clear();
    this.#size = 0;
  }

  readonly #tick = (): void => {
    const now = Math.floor(performance.now() / this.#tickMs);
    while (this.#cursor < now && this.#size > 0) {
      this.#cursor++;
      const bucket = this.#buckets.get(this.#cursor);
      if (bucket === undefined) continue;
      this.#buckets.delete(this.#cursor);
      for (const item of bucket) {
        item.bucket = -1;
        this.#size--;
        this.#expire(item);
      }
    }
    if (this.#size === 0) this.#stop();
  };
}
