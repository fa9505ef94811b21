import type { Logger } from "@mk/logger";
import type { RemoteRouter, Reply } from "../types.ts";
import { DeadlineWheel } from "./deadline-wheel.ts";
import { Drains } from "./drains.ts";
import type { Endpoint } from "./endpoint.ts";
import { failed, replied } from "./outcomes.ts";
import { DONE, FORWARDED, type PendingCall, RUNNING } from "./pending-call.ts";
import { closed, timedOut } from "./replies.ts";

/** Granularity of deadlines: a 408 comes 0 to 2 ticks after `timeoutMs`. */
const TICK_MS = 5;

/**
 * Everything about answering calls the bus could not answer at once: their
 * deadlines (one shared wheel), handlers in flight and who waits for them to
 * drain, aborts, and the one place a call is answered. Each call is answered
 * exactly once: by its handler, its deadline, its caller's abort, or close.
 */
export class CallTracker {
  readonly #wheel: DeadlineWheel<PendingCall>;
  readonly #drains = new Drains();
  readonly #lookup: (name: string) => Endpoint | undefined;
  readonly #logger: Logger;
  /** Pushes not yet answered (the queue's capacity counts these). */
  waitingPushes = 0;

  constructor(lookup: (name: string) => Endpoint | undefined, logger: Logger) {
    this.#lookup = lookup;
    this.#logger = logger;
    this.#wheel = new DeadlineWheel<PendingCall>(TICK_MS, (call) => this.#expire(call));
  }

  ticksFor(timeoutMs: number): number {
    return this.#wheel.ticksFor(timeoutMs);
  }

  /** Calls whose deadline runs (held or waiting for a handler). */
  get size(): number {
    return this.#wheel.size;
  }

  /** Starts the call's deadline if it is not running yet (a call parked in a hold keeps its deadline). */
  track(call: PendingCall): void {
    if (call.wheelSlot < 0) this.#wheel.add(call, call.ticks);
  }

  /** Tracks a handler's pending result until it settles or the deadline passes. */
  run(call: PendingCall, endpoint: Endpoint, result: PromiseLike<unknown>): void {
    call.phase = RUNNING;
    call.endpoint = endpoint;
    this.track(call);
    if (this.#drains.active) this.#drains.enter(call.target);
    try {
      result.then(
        (value) => this.#settled(call, endpoint, value),
        (error: unknown) => this.#rejected(call, endpoint, error),
      );
    } catch (error) {
      // A hand-made thenable whose then() throws: the handler failed.
      this.#rejected(call, endpoint, error);
    }
  }

  /**
   * Hands the call to the remote router (its target does not run here);
   * false when the router does not know the target. Its reply answers the
   * call, a rejection (an encoding error, say) reaches the caller as is, and
   * the deadline here still answers 408 if neither comes in time.
   */
  forward(call: PendingCall, router: RemoteRouter): boolean {
    let routed: Promise<Reply> | undefined;
    try {
      routed = router.route(call.event, { push: call.isPush, timeoutMs: call.timeoutMs, signal: call.signal });
    } catch (error) {
      routed = Promise.reject(error as Error);
    }
    if (routed === undefined) return false;
    call.phase = FORWARDED;
    this.track(call);
    // Promise.resolve: a hand-made thenable from a router cannot throw out of here.
    Promise.resolve(routed).then(
      (reply) => {
        if (call.phase === FORWARDED) this.finish(call, reply);
      },
      (error: unknown) => {
        if (call.phase !== FORWARDED) return;
        this.#wheel.remove(call);
        call.phase = DONE;
        this.#reject(call, error);
      },
    );
    return true;
  }

  /** The call's outcome is known now: stop its deadline and answer it. */
  finish(call: PendingCall, reply: Reply): void {
    this.#wheel.remove(call);
    call.phase = DONE;
    this.answer(call, reply);
  }

  answer(call: PendingCall, reply: Reply): void {
    if (call.answered) return;
    call.answered = true;
    if (call.isPush) this.waitingPushes--;
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
    call.resolve(reply);
  }

  /** A forwarded call whose router rejected: the caller gets the error. */
  #reject(call: PendingCall, error: unknown): void {
    if (call.answered) return;
    call.answered = true;
    if (call.isPush) this.waitingPushes--;
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
    call.reject(error);
  }

  /** Like fetch: an abort rejects the caller with `signal.reason`; the handler (if running) still counts as in flight. */
  watch(call: PendingCall, signal: AbortSignal): void {
    const onAbort = (): void => {
      if (call.answered) return;
      call.answered = true;
      if (call.isPush) this.waitingPushes--;
      if (call.phase !== RUNNING) {
        this.#wheel.remove(call);
        call.phase = DONE;
      }
      call.reject(signal.reason);
    };
    call.signal = signal;
    call.onAbort = onAbort;
    signal.addEventListener("abort", onAbort, { once: true });
  }

  /** Handler calls to `name` not yet settled whose callers still wait (or gave up by abort). */
  inFlight(name: string): number {
    // Stops call this for every service: when nothing is pending, skip the scan.
    if (this.#wheel.size === 0) return 0;
    let count = 0;
    this.#wheel.forEach((call) => {
      if (call.phase === RUNNING && call.target === name) count++;
    });
    return count;
  }

  /** See `MessageBus.abandon`: answers now every call whose handler runs in `name`. */
  abandon(name: string, reply: Reply): number {
    if (this.#wheel.size === 0) return 0;
    const running: PendingCall[] = [];
    this.#wheel.forEach((call) => {
      if (call.phase === RUNNING && call.target === name) running.push(call);
    });
    for (const call of running) {
      this.#leave(call);
      this.answer(call, reply);
    }
    return running.length;
  }

  /** See `MessageBus.drain`. */
  drain(name: string, timeoutMs: number): Promise<boolean> {
    return this.#drains.wait(name, timeoutMs, () => this.inFlight(name));
  }

  /** Stops the deadline timer and answers every tracked call, and `more`, 503 ("kernel is closed"). */
  close(more: readonly PendingCall[]): void {
    this.#wheel.stop();
    const pending: PendingCall[] = [];
    this.#wheel.forEach((call) => pending.push(call));
    pending.push(...more);
    for (const call of pending) {
      this.#wheel.remove(call);
      call.phase = DONE;
      this.answer(call, closed(call.target));
    }
    this.#drains.settleAll(true);
  }

  #settled(call: PendingCall, endpoint: Endpoint, value: unknown): void {
    // A late reply (after 408 or close) is dropped: the caller has its answer.
    if (call.phase !== RUNNING) return;
    this.#leave(call);
    this.answer(call, replied(endpoint, call.target, call.type, value, this.#logger));
  }

  #rejected(call: PendingCall, endpoint: Endpoint, error: unknown): void {
    if (call.phase !== RUNNING) return;
    this.#leave(call);
    this.answer(call, failed(endpoint, call.target, call.type, error, this.#logger));
  }

  /** Runs inside the wheel's timer: reads only what the call snapshotted at its start. */
  #expire(call: PendingCall): void {
    if (call.phase === RUNNING) this.#leave(call);
    call.phase = DONE;
    if (call.answered) return;
    const endpoint = call.endpoint ?? this.#lookup(call.target);
    if (endpoint !== undefined) endpoint.stats.timedOut++;
    this.#logger.warn(
      "service %s did not reply to %s from %s within %d ms",
      call.target,
      call.type,
      call.from,
      call.timeoutMs,
    );
    this.answer(call, timedOut(call.target, call.type, call.timeoutMs));
  }

  /** A running call's handler is done (settled or past its deadline): it no longer counts as in flight. */
  #leave(call: PendingCall): void {
    this.#wheel.remove(call);
    call.phase = DONE;
    if (this.#drains.active) this.#drains.leave(call.target);
  }
}
