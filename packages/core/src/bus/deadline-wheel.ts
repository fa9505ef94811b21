/**
 * A node the deadline wheel can hold. Intrusive links make insert and remove
 * O(1) with no allocation and no Map (a long-lived Map costs 60-126 ns per
 * set+delete, see research/peers-and-speed.md section 1).
 */
export class WheelNode {
  wheelPrev: WheelNode | undefined = undefined;
  wheelNext: WheelNode | undefined = undefined;
  /** Slot index while in the wheel, -1 otherwise. */
  wheelSlot = -1;
  /** The tick at which the node expires. */
  dueTick = 0;
}

const SLOTS = 1024;
const MASK = SLOTS - 1;

/**
 * One shared timer for every call deadline: a hashed timer wheel of 1024 slots
 * advanced by a single interval that runs only while nodes are pending.
 *
 * Time is counted in ticks (interval firings), never read from a clock: a
 * node added `n` ticks ahead expires after `n` firings, each at least
 * `tickMs` apart, so a deadline never fires early even when the event loop
 * was blocked when the node was added, and no call pays for `Date.now()`
 * (~25-70 ns here) or a `setTimeout` of its own (~230 ns).
 * Precision: a deadline fires between `timeoutMs` and `timeoutMs + 2 * tickMs`
 * after the node was added (plus event-loop lag).
 */
export class DeadlineWheel<N extends WheelNode> {
  readonly #slots: (WheelNode | undefined)[] = Array.from<WheelNode | undefined>({ length: SLOTS });
  readonly #tickMs: number;
  readonly #onExpire: (node: N) => void;
  #tick = 0;
  #size = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(tickMs: number, onExpire: (node: N) => void) {
    this.#tickMs = tickMs;
    this.#onExpire = onExpire;
  }

  /** Nodes in the wheel. */
  get size(): number {
    return this.#size;
  }

  /** The number of ticks that covers `timeoutMs` (one more, since the current tick is already partly gone). */
  ticksFor(timeoutMs: number): number {
    return Math.ceil(timeoutMs / this.#tickMs) + 1;
  }

  /** Adds `node` to expire `ticks` ticks from now (see {@link DeadlineWheel.ticksFor}). */
  add(node: N, ticks: number): void {
    const due = this.#tick + ticks;
    const slot = due & MASK;
    node.dueTick = due;
    node.wheelSlot = slot;
    const head = this.#slots[slot];
    node.wheelPrev = undefined;
    node.wheelNext = head;
    if (head !== undefined) head.wheelPrev = node;
    this.#slots[slot] = node;
    if (this.#size++ === 0 && this.#timer === undefined) {
      this.#timer = setInterval(this.#advance, this.#tickMs);
    }
  }

  /** Takes `node` out of the wheel; a no-op when it is not in it. */
  remove(node: N): void {
    const slot = node.wheelSlot;
    if (slot < 0) return;
    const prev = node.wheelPrev;
    const next = node.wheelNext;
    if (prev === undefined) this.#slots[slot] = next;
    else prev.wheelNext = next;
    if (next !== undefined) next.wheelPrev = prev;
    node.wheelPrev = undefined;
    node.wheelNext = undefined;
    node.wheelSlot = -1;
    this.#size--;
  }

  /** Calls `visit` for every node in the wheel (in no particular order). */
  forEach(visit: (node: N) => void): void {
    for (let i = 0; i < SLOTS; i++) {
      for (let node = this.#slots[i]; node !== undefined;) {
        const next = node.wheelNext;
        visit(node as N);
        node = next;
      }
    }
  }

  /** Stops the timer; nodes stay where they are (the caller empties the wheel). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  readonly #advance = (): void => {
    const tick = ++this.#tick;
    let node = this.#slots[tick & MASK];
    while (node !== undefined) {
      const next = node.wheelNext;
      // Nodes more than one revolution ahead share the slot: they wait for their own tick.
      if (node.dueTick <= tick) {
        this.remove(node as N);
        this.#onExpire(node as N);
      }
      node = next;
    }
    // Stopped lazily, at a tick with nothing pending, so steady traffic never re-arms a timer.
    if (this.#size === 0) this.stop();
  };
}
