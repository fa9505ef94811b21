/**
 * A FIFO ring buffer that grows by doubling: O(1) push and shift with no
 * per-item allocation (an array's `shift()` is O(n) once it gets large).
 */
export class PushQueue<T> {
  #items: (T | undefined)[];
  #head = 0;
  #length = 0;

  constructor(initialCapacity = 64) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.#items = Array.from<T | undefined>({ length: capacity });
  }

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
  }

  /** The oldest item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    return item;
  }

  /** Visits the items oldest first, without removing them. */
  forEach(visit: (item: T) => void): void {
    for (let i = 0; i < this.#length; i++) visit(this.#items[(this.#head + i) & (this.#items.length - 1)] as T);
  }

  #grow(): void {
    const old = this.#items;
    const next = Array.from<T | undefined>({ length: old.length * 2 });
    for (let i = 0; i < this.#length; i++) next[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = next;
    this.#head = 0;
  }
}
