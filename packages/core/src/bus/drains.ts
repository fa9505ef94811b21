import { MAX_TIMEOUT_MS } from "./replies.ts";

interface Drain {
  /** Handler calls to the name still running. */
  count: number;
  readonly waiters: Set<(drained: boolean) => void>;
}

/**
 * Who waits for a service's in-flight handler calls to reach zero (a stop or
 * a swap), and how many are left. The bus reports each handler call that
 * starts or ends while someone waits for its target; when nobody waits, the
 * bus pays one `active` check per call.
 */
export class Drains {
  readonly #drains = new Map<string, Drain>();

  /** True while someone waits for a drain. */
  get active(): boolean {
    return this.#drains.size !== 0;
  }

  /**
   * Resolves `true` when `name` has no handler call in flight, `false` after
   * `timeoutMs` (no timer when it is 0 or not a finite delay). `inFlight` counts
   * the calls now; it is asked only when no one waits for `name` yet.
   */
  wait(name: string, timeoutMs: number, inFlight: () => number): Promise<boolean> {
    let drain = this.#drains.get(name);
    if (drain === undefined) {
      const count = inFlight();
      if (count === 0) return Promise.resolve(true);
      drain = { count, waiters: new Set() };
      this.#drains.set(name, drain);
    }
    const waiters = drain.waiters;
    return new Promise<boolean>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter = (drained: boolean): void => {
        if (timer !== undefined) clearTimeout(timer);
        waiters.delete(waiter);
        resolve(drained);
      };
      waiters.add(waiter);
      // 0 (or anything not a positive finite delay) means no deadline, as for stopTimeoutMs: 0.
      if (timeoutMs > 0 && timeoutMs < MAX_TIMEOUT_MS) {
        timer = setTimeout(() => {
          waiter(false);
          if (waiters.size === 0 && this.#drains.get(name)?.waiters === waiters) this.#drains.delete(name);
        }, timeoutMs);
      }
    });
  }

  /** A handler call to `name` started. */
  enter(name: string): void {
    const drain = this.#drains.get(name);
    if (drain !== undefined) drain.count++;
  }

  /** A handler call to `name` ended (settled, or its deadline passed). */
  leave(name: string): void {
    const drain = this.#drains.get(name);
    if (drain === undefined || --drain.count > 0) return;
    this.#drains.delete(name);
    for (const waiter of drain.waiters) waiter(true);
  }

  /** Answers every waiter (the bus is closing). */
  settleAll(drained: boolean): void {
    for (const drain of this.#drains.values()) for (const waiter of drain.waiters) waiter(drained);
    this.#drains.clear();
  }
}
