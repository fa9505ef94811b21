/** A pending deadline; `cancel()` it when the awaited work settles in time. */
export interface Watch {
  cancel(): void;
}

/** Entries with one timeout value: their deadlines come in arrival order, so a FIFO and one timer serve them all. */
class TimeoutLane {
  readonly entries: Entry[] = [];
  head = 0;
  live = 0;
  timer: ReturnType<typeof setTimeout> | undefined;
  readonly #owner: Timeouts;

  constructor(owner: Timeouts) {
    this.#owner = owner;
  }

  arm(delayMs: number): void {
    this.timer = setTimeout(this.#fire, Math.max(0, Math.ceil(delayMs)));
    this.timer.unref();
  }

  /**
   * Nothing is pending: forget the entries. The timer, if armed, is left to
   * fire once into an empty lane (it is unref'd): a level of startAll that
   * settles at once then costs no setTimeout/clearTimeout pair, and the next
   * level reuses the armed timer.
   */
  reset(): void {
    this.entries.length = 0;
    this.head = 0;
  }

  readonly #fire = (): void => {
    this.timer = undefined;
    if (this.live === 0) return;
    const now = this.#owner.now();
    const { entries } = this;
    while (this.head < entries.length) {
      const entry = entries[this.head] as Entry;
      if (!entry.done) {
        if (entry.due > now) break;
        entry.done = true;
        this.live -= 1;
        entry.onTimeout();
      }
      this.head += 1;
    }
    if (this.live === 0) this.reset();
    else {
      // Compact now and then so a long-lived lane does not keep settled entries.
      if (this.head > 1024 && this.head * 2 > entries.length) {
        entries.splice(0, this.head);
        this.head = 0;
      }
      this.arm((entries[this.head] as Entry).due - now);
    }
  };
}

/** One deadline; a class so a watch costs one small object and no closure. */
class Entry implements Watch {
  done = false;
  readonly due: number;
  readonly onTimeout: () => void;
  readonly #lane: TimeoutLane;

  constructor(lane: TimeoutLane, due: number, onTimeout: () => void) {
    this.#lane = lane;
    this.due = due;
    this.onTimeout = onTimeout;
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    if (--this.#lane.live === 0) this.#lane.reset();
  }
}

/**
 * Start and stop deadlines without a timer per call. Deadlines of the same
 * length expire in the order they were set, so each distinct timeout value
 * gets a FIFO lane with a single timer armed for its oldest live entry.
 * Starting 10,000 services at once arms one timer instead of 10,000 (a
 * setTimeout + clearTimeout pair costs about as much as a no-op start), and
 * an idle lane's timer is left to lapse rather than cleared.
 * Timers are unref'd: neither a pending start nor a lapsing timer keeps the
 * process alive.
 */
export class Timeouts {
  readonly #lanes = new Map<number, TimeoutLane>();

  now(): number {
    return performance.now();
  }

  /** Calls `onTimeout` after `timeoutMs` unless the returned watch is cancelled first. */
  watch(timeoutMs: number, onTimeout: () => void): Watch {
    let lane = this.#lanes.get(timeoutMs);
    if (lane === undefined) this.#lanes.set(timeoutMs, (lane = new TimeoutLane(this)));
    const entry = new Entry(lane, this.now() + timeoutMs, onTimeout);
    lane.entries.push(entry);
    // An armed timer fires no later than this entry is due (same timeout, set earlier), then re-arms.
    if (lane.live++ === 0 && lane.timer === undefined) lane.arm(timeoutMs);
    return entry;
  }
}
