import { isThenable } from "@mk/common";
import type { Logger } from "@mk/logger";
import {
  badSignal,
  checkEvent,
  closed,
  handlerFailed,
  invalidReply,
  isReply,
  kernelReply,
  MAX_TIMEOUT_MS,
  noHandler,
  notRegistered,
  notRunning,
  queueFull,
  timedOut,
} from "./replies.ts";
import { DeadlineWheel } from "./deadline-wheel.ts";
import { Drains } from "./drains.ts";
import { DONE, FORWARDED, HELD, PendingCall, QUEUED, RUNNING } from "./pending-call.ts";
import { PushQueue } from "./push-queue.ts";
import type { CallOptions, Event, RemoteRouter, Reply } from "../types.ts";
import type { Endpoint } from "./endpoint.ts";

export interface MessageBusOptions {
  lookup: (name: string) => Endpoint | undefined;
  /** Deadline of events without `timeoutMs`. */
  defaultTimeoutMs: number;
  /** Most pushed events waiting for replies; past it `push` answers 503 at once. */
  queueCapacity: number;
  logger: Logger;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Granularity of deadlines: a 408 comes 0 to 2 ticks after `timeoutMs`. */
const TICK_MS = 5;

interface Hold {
  readonly calls: PendingCall[];
}

/**
 * Carries events to service handlers and replies back.
 *
 * - `send` calls the handler at once; `push` goes through a bounded FIFO queue
 *   served by the kernel's loop (a microtask), so pushes reach handlers in the
 *   order they were pushed, whoever pushed them.
 * - Every call has a deadline, kept by one shared timer wheel (see
 *   {@link DeadlineWheel}); a synchronous handler is answered without touching
 *   it at all.
 * - `hold(name)` parks new deliveries to `name`; `release(name)` delivers them,
 *   in arrival order, to whatever version `lookup(name)` returns then.
 */
export class MessageBus {
  readonly #lookup: (name: string) => Endpoint | undefined;
  readonly #logger: Logger;
  readonly #defaultTimeoutMs: number;
  readonly #defaultTicks: number;
  readonly #capacity: number;
  readonly #wheel: DeadlineWheel<PendingCall>;
  readonly #queue = new PushQueue<PendingCall>();
  readonly #holds = new Map<string, Hold>();
  readonly #drains = new Drains();
  #router: RemoteRouter | undefined = undefined;
  #waitingPushes = 0;
  #loopScheduled = false;
  #closed = false;

  constructor(options: MessageBusOptions) {
    this.#lookup = options.lookup;
    this.#logger = options.logger;
    this.#defaultTimeoutMs = options.defaultTimeoutMs;
    this.#capacity = options.queueCapacity;
    this.#wheel = new DeadlineWheel<PendingCall>(TICK_MS, (call) => this.#expire(call));
    this.#defaultTicks = this.#wheel.ticksFor(Math.min(options.defaultTimeoutMs, MAX_TIMEOUT_MS));
  }

  /**
   * Delivers `event` to its target's handler now and resolves with its reply.
   * Resolves (never rejects) for delivery problems: 404, 408, 500, see `ReplyCode`.
   * @throws {InvalidEventError} (a rejection) when `event` is not an event.
   * @throws `options.signal.reason` (a rejection) when the signal aborts first.
   */
  send(event: Event, options?: CallOptions): Promise<Reply> {
    const signal = options?.signal;
    if (signal !== undefined || this.#holds.size !== 0 || this.#closed) return this.#sendTracked(event, signal);
    const invalid = checkEvent(event);
    if (invalid !== undefined) return Promise.reject(invalid);
    const to = event.to;
    if (to === undefined || to === "") return Promise.resolve(this.#forKernel(event));
    const endpoint = this.#lookup(to);
    if (endpoint === undefined) {
      return this.#router === undefined ? Promise.resolve(notRegistered(to)) : this.#routeSend(event, undefined);
    }
    const service = endpoint.service;
    if (endpoint.status !== "running" || typeof service.handle !== "function") {
      return this.#router === undefined
        ? Promise.resolve(this.#refuse(endpoint, to))
        : this.#routeSend(event, endpoint);
    }
    let result: unknown;
    try {
      result = service.handle(event, endpoint.context);
    } catch (error) {
      return Promise.resolve(this.#failed(endpoint, to, event, error));
    }
    if (!isThenable(result)) return Promise.resolve(this.#replied(endpoint, to, event, result));
    // Asynchronous handler: the caller now needs a promise the deadline can settle.
    const ticks = event.timeoutMs === undefined ? this.#defaultTicks : this.#wheel.ticksFor(event.timeoutMs);
    const call = new PendingCall(event, to, false, ticks);
    this.#run(call, endpoint, result);
    return call.promise;
  }

  /**
   * Queues `event` for the kernel's loop and resolves with the reply.
   * Answers 503 at once when `queueCapacity` pushed events are waiting for replies.
   * @throws {InvalidEventError} (a rejection) when `event` is not an event.
   * @throws `options.signal.reason` (a rejection) when the signal aborts first.
   */
  push(event: Event, options?: CallOptions): Promise<Reply> {
    const signal = options?.signal;
    const early = this.#answerEarly(event, signal);
    if (early !== undefined) return early;
    const to = event.to as string;
    if (this.#waitingPushes >= this.#capacity) {
      const endpoint = this.#lookup(to);
      if (endpoint !== undefined) endpoint.stats.refused++;
      return Promise.resolve(queueFull(to, this.#capacity));
    }
    const ticks = event.timeoutMs === undefined ? this.#defaultTicks : this.#wheel.ticksFor(event.timeoutMs);
    const call = new PendingCall(event, to, true, ticks);
    this.#waitingPushes++;
    if (signal !== undefined) this.#watch(call, signal);
    if (this.#holds.size !== 0) {
      const hold = this.#holds.get(to);
      if (hold !== undefined) {
        this.#park(call, hold);
        return call.promise;
      }
    }
    this.#queue.push(call);
    if (!this.#loopScheduled) {
      this.#loopScheduled = true;
      // A native promise reaction: Node's queueMicrotask wraps every callback in an async resource (~3x the cost).
      void RESOLVED.then(this.#loop);
    }
    return call.promise;
  }

  /**
   * Installs (or, with `undefined`, removes) the router asked for calls whose
   * target is not registered or not running here. See {@link RemoteRouter}.
   */
  setRouter(router: RemoteRouter | undefined): void {
    this.#router = router;
  }

  /**
   * New deliveries to `name` wait until {@link MessageBus.release}, in call
   * order: pushes already queued for `name` move into the hold first, and
   * later pushes are parked at once instead of going through the queue.
   */
  hold(name: string): void {
    if (this.#holds.has(name)) return;
    const hold: Hold = { calls: [] };
    this.#holds.set(name, hold);
    this.#queue.forEach((call) => {
      if (call.phase === QUEUED && call.target === name) this.#park(call, hold);
    });
  }

  /**
   * Delivers the held calls to whatever `lookup(name)` returns now, in
   * arrival order. Calls arriving while they are delivered queue behind them.
   * Returns how many were delivered (held calls that expired or were aborted are not).
   */
  release(name: string): number {
    const hold = this.#holds.get(name);
    if (hold === undefined) return 0;
    const calls = hold.calls;
    let delivered = 0;
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i] as PendingCall;
      if (call.phase !== HELD) continue;
      delivered++;
      this.#deliver(call, true);
    }
    this.#holds.delete(name);
    return delivered;
  }

  /** Calls the bus still tracks (queued, held, or waiting for a handler): 0 when idle, so tests can prove nothing leaks. */
  get pending(): number {
    // Held calls sit in the wheel (their deadlines run); queued ones only until the loop's microtask.
    return this.#wheel.size + this.#queue.length;
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

  /**
   * Resolves `true` once no handler call to `name` is in flight, `false` at
   * `timeoutMs`. Each call is bounded by its own deadline, so this ends at the
   * latest when the last deadline passes.
   */
  drain(name: string, timeoutMs: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(true);
    return this.#drains.wait(name, timeoutMs, () => this.inFlight(name));
  }

  /**
   * Answers every call whose handler is running in `name` with `reply` now
   * (its instance crashed: their results would never come). A result that
   * arrives later is dropped, as after a 408. Returns how many were answered.
   */
  abandon(name: string, reply: Reply): number {
    if (this.#wheel.size === 0) return 0;
    const running: PendingCall[] = [];
    this.#wheel.forEach((call) => {
      if (call.phase === RUNNING && call.target === name) running.push(call);
    });
    for (const call of running) {
      this.#leave(call);
      this.#answer(call, reply);
    }
    return running.length;
  }

  /** Stops the deadline timer and answers every pending call 503 ("kernel is closed"). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wheel.stop();
    const pending: PendingCall[] = [];
    this.#wheel.forEach((call) => pending.push(call));
    for (let call = this.#queue.shift(); call !== undefined; call = this.#queue.shift()) pending.push(call);
    for (const hold of this.#holds.values()) pending.push(...hold.calls);
    this.#holds.clear();
    for (const call of pending) {
      this.#wheel.remove(call);
      call.phase = DONE;
      this.#answer(call, closed(call.target));
    }
    this.#drains.settleAll(true);
  }

  /**
   * What both paths answer before any delivery: a malformed event or signal,
   * an already aborted signal, an event for the kernel itself, a closed bus.
   * `undefined` means "deliver to `event.to`", which is then a non-empty string.
   */
  #answerEarly(event: Event, signal: AbortSignal | undefined): Promise<Reply> | undefined {
    const invalid = checkEvent(event);
    if (invalid !== undefined) return Promise.reject(invalid);
    if (signal !== undefined) {
      if (!(signal instanceof AbortSignal)) return Promise.reject(badSignal(event, signal));
      if (signal.aborted) return Promise.reject(signal.reason);
    }
    const to = event.to;
    if (to === undefined || to === "") return Promise.resolve(this.#forKernel(event));
    if (this.#closed) return Promise.resolve(closed(to));
    return undefined;
  }

  /** The slow path of `send`: a signal, a hold somewhere, or a closed bus. */
  #sendTracked(event: Event, signal: AbortSignal | undefined): Promise<Reply> {
    const early = this.#answerEarly(event, signal);
    if (early !== undefined) return early;
    const to = event.to as string;
    const ticks = event.timeoutMs === undefined ? this.#defaultTicks : this.#wheel.ticksFor(event.timeoutMs);
    const call = new PendingCall(event, to, false, ticks);
    if (signal !== undefined) this.#watch(call, signal);
    this.#deliver(call, false);
    return call.promise;
  }

  readonly #loop = (): void => {
    try {
      for (let call = this.#queue.shift(); call !== undefined; call = this.#queue.shift()) {
        if (call.phase === QUEUED) this.#deliver(call, false);
      }
    } finally {
      // Handlers cannot throw out of #deliver, but a throwing lookup must not leave the loop stalled forever.
      this.#loopScheduled = false;
      if (this.#queue.length > 0) {
        this.#loopScheduled = true;
        void RESOLVED.then(this.#loop);
      }
    }
  };

  /** Delivers a tracked call now, or parks it if its target is held. */
  #deliver(call: PendingCall, released: boolean): void {
    const to = call.target;
    if (!released && this.#holds.size !== 0) {
      const hold = this.#holds.get(to);
      if (hold !== undefined) {
        this.#park(call, hold);
        return;
      }
    }
    const event = call.event;
    const endpoint = this.#lookup(to);
    let reply: Reply;
    if (
      this.#router !== undefined &&
      (endpoint === undefined || endpoint.status !== "running" || typeof endpoint.service.handle !== "function") &&
      this.#routeTracked(call)
    ) {
      return;
    }
    if (endpoint === undefined) {
      reply = notRegistered(to);
    } else if (endpoint.status !== "running" || typeof endpoint.service.handle !== "function") {
      reply = this.#refuse(endpoint, to);
    } else {
      let result: unknown;
      try {
        result = endpoint.service.handle(event, endpoint.context);
      } catch (error) {
        this.#finish(call, this.#failed(endpoint, to, event, error));
        return;
      }
      if (isThenable(result)) {
        this.#run(call, endpoint, result);
        return;
      }
      reply = this.#replied(endpoint, to, event, result);
    }
    this.#finish(call, reply);
  }

  /** `send` to a target that is not running here: the router's reply (with the deadline armed here), else the local 404. */
  #routeSend(event: Event, endpoint: Endpoint | undefined): Promise<Reply> {
    const to = event.to as string;
    const ticks = event.timeoutMs === undefined ? this.#defaultTicks : this.#wheel.ticksFor(event.timeoutMs);
    const call = new PendingCall(event, to, false, ticks);
    if (this.#routeTracked(call)) return call.promise;
    return Promise.resolve(endpoint === undefined ? notRegistered(to) : this.#refuse(endpoint, to));
  }

  /**
   * Hands a tracked call (a push, or a send with a signal) to the router.
   * Its deadline stays armed here, so the caller gets 408 even from a router
   * that never answers. False when the router does not know the target.
   */
  #routeTracked(call: PendingCall): boolean {
    let routed: Promise<Reply> | undefined;
    try {
      routed = (this.#router as RemoteRouter).route(call.event, {
        push: call.isPush,
        timeoutMs: call.event.timeoutMs ?? this.#defaultTimeoutMs,
        signal: call.signal,
      });
    } catch (error) {
      routed = Promise.reject(error as Error);
    }
    if (routed === undefined) return false;
    call.phase = FORWARDED;
    if (call.wheelSlot < 0) this.#wheel.add(call, call.ticks);
    routed.then(
      (reply) => {
        if (call.phase === FORWARDED) this.#finish(call, reply);
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

  /** Parks a call in a hold; its deadline keeps running. */
  #park(call: PendingCall, hold: Hold): void {
    call.phase = HELD;
    hold.calls.push(call);
    if (call.wheelSlot < 0) this.#wheel.add(call, call.ticks);
  }

  /** Tracks a handler's pending result until it settles or the deadline passes. */
  #run(call: PendingCall, endpoint: Endpoint, result: PromiseLike<unknown>): void {
    call.phase = RUNNING;
    call.endpoint = endpoint;
    if (call.wheelSlot < 0) this.#wheel.add(call, call.ticks);
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

  #settled(call: PendingCall, endpoint: Endpoint, value: unknown): void {
    // A late reply (after 408 or close) is dropped: the caller has its answer.
    if (call.phase !== RUNNING) return;
    this.#leave(call);
    const reply = this.#replied(endpoint, call.target, call.event, value);
    this.#answer(call, reply);
  }

  #rejected(call: PendingCall, endpoint: Endpoint, error: unknown): void {
    if (call.phase !== RUNNING) return;
    this.#leave(call);
    this.#answer(call, this.#failed(endpoint, call.target, call.event, error));
  }

  #expire(call: PendingCall): void {
    const wasRunning = call.phase === RUNNING;
    if (wasRunning) this.#leave(call);
    call.phase = DONE;
    if (call.answered) return;
    const endpoint = call.endpoint ?? this.#lookup(call.target);
    if (endpoint !== undefined) endpoint.stats.timedOut++;
    const timeoutMs = call.event.timeoutMs ?? this.#defaultTimeoutMs;
    this.#logger.warn(
      "service %s did not reply to %s from %s within %d ms",
      call.target,
      call.event.type,
      call.event.from,
      timeoutMs,
    );
    this.#answer(call, timedOut(call.target, call.event.type, timeoutMs));
  }

  /** A running call's handler is done (settled or past its deadline): it no longer counts as in flight. */
  #leave(call: PendingCall): void {
    this.#wheel.remove(call);
    call.phase = DONE;
    if (this.#drains.active) this.#drains.leave(call.target);
  }

  #finish(call: PendingCall, reply: Reply): void {
    this.#wheel.remove(call);
    call.phase = DONE;
    this.#answer(call, reply);
  }

  #answer(call: PendingCall, reply: Reply): void {
    if (call.answered) return;
    call.answered = true;
    if (call.isPush) this.#waitingPushes--;
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
    call.resolve(reply);
  }

  /** A forwarded call whose router rejected (an encoding error): the caller gets the error. */
  #reject(call: PendingCall, error: unknown): void {
    if (call.answered) return;
    call.answered = true;
    if (call.isPush) this.#waitingPushes--;
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
    call.reject(error);
  }

  /** Like fetch: an abort rejects the caller with `signal.reason`; the handler (if running) still counts as in flight. */
  #watch(call: PendingCall, signal: AbortSignal): void {
    const onAbort = (): void => {
      if (call.answered) return;
      call.answered = true;
      if (call.isPush) this.#waitingPushes--;
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

  #forKernel(event: Event): Reply {
    this.#logger.debug("kernel handled %s from %s", event.type, event.from);
    return kernelReply();
  }

  #refuse(endpoint: Endpoint, to: string): Reply {
    endpoint.stats.refused++;
    return endpoint.status === "running" ? noHandler(to) : notRunning(to, endpoint.status);
  }

  #replied(endpoint: Endpoint, to: string, event: Event, value: unknown): Reply {
    if (isReply(value)) {
      endpoint.stats.handled++;
      return value;
    }
    endpoint.stats.failed++;
    const reply = invalidReply(to, event.type, value);
    this.#logger.warn("%s", reply.message);
    return reply;
  }

  #failed(endpoint: Endpoint, to: string, event: Event, error: unknown): Reply {
    endpoint.stats.failed++;
    const reply = handlerFailed(to, event.type, error);
    this.#logger.warn("%s", reply.message);
    return reply;
  }
}
