import { HELD, type PendingCall, QUEUED } from "./pending-call.ts";
import type { PushQueue } from "./push-queue.ts";

/**
 * Deliveries parked per service while it is held (a hot swap, a restart):
 * calls keep their arrival order and their running deadlines, and go to
 * whatever version runs when the hold is released.
 */
export class Holds {
  readonly #calls = new Map<string, PendingCall[]>();
  readonly #track: (call: PendingCall) => void;

  /** `track` starts a parked call's deadline if it is not running yet. */
  constructor(track: (call: PendingCall) => void) {
    this.#track = track;
  }

  /** True while some service is held: the bus's hot path checks only this. */
  get active(): boolean {
    return this.#calls.size !== 0;
  }

  /** Holds `name`; pushes already queued for it move into the hold first, in order. */
  hold(name: string, queue: PushQueue<PendingCall>): void {
    if (this.#calls.has(name)) return;
    const calls: PendingCall[] = [];
    this.#calls.set(name, calls);
    queue.forEach((call) => {
      if (call.phase === QUEUED && call.target === name) this.#add(calls, call);
    });
  }

  /** Parks `call` when its target is held; false when it is not. */
  park(call: PendingCall): boolean {
    const calls = this.#calls.get(call.target);
    if (calls === undefined) return false;
    this.#add(calls, call);
    return true;
  }

  /**
   * Calls `deliver` for each call still parked for `name`, in arrival order,
   * then ends the hold. A call parked while they are delivered (a handler
   * pushing to `name`) is delivered in the same pass, behind them.
   * Returns how many were delivered (held calls that expired or were aborted are not).
   */
  release(name: string, deliver: (call: PendingCall) => void): number {
    const calls = this.#calls.get(name);
    if (calls === undefined) return 0;
    let delivered = 0;
    for (const call of calls) {
      if (call.phase !== HELD) continue;
      delivered++;
      deliver(call);
    }
    this.#calls.delete(name);
    return delivered;
  }

  /** Ends every hold and returns the calls they held (the bus is closing). */
  clear(): PendingCall[] {
    const all = [...this.#calls.values()].flat();
    this.#calls.clear();
    return all;
  }

  #add(calls: PendingCall[], call: PendingCall): void {
    call.phase = HELD;
    calls.push(call);
    this.#track(call);
  }
}
