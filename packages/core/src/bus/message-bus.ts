import { isThenable } from "@mk/common";
import type { Logger } from "@mk/logger";
import type { CallOptions, Event, RemoteRouter, Reply } from "../types.ts";
import { CallTracker } from "./call-tracker.ts";
import type { Endpoint } from "./endpoint.ts";
import { failed, refused, replied } from "./outcomes.ts";
import { Holds } from "./holds.ts";
import { PendingCall, QUEUED } from "./pending-call.ts";
import { PushQueue } from "./push-queue.ts";
import {
  badSignal,
  closed,
  type EventFields,
  isAbortSignal,
  kernelReply,
  MAX_TIMEOUT_MS,
  notRegistered,
  queueFull,
  readEvent,
} from "./replies.ts";

export interface MessageBusOptions {
  lookup: (name: string) => Endpoint | undefined;
  /** Deadline of events without `timeoutMs`. */
  defaultTimeoutMs: number;
  /** Most pushed events waiting for replies; past it `push` answers 503 at once. */
  queueCapacity: number;
  logger: Logger;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** The fields of the event being routed: filled by `readEvent` and copied out at once (no allocation per call). */
const fields: EventFields = { to: "", from: "", type: "", timeoutMs: undefined };

/**
 * Carries events to service handlers and replies back.
 *
 * - `send` calls the handler at once; `push` goes through a bounded FIFO queue
 *   served by the kernel's loop (a microtask), so pushes reach handlers in the
 *   order they were pushed, whoever pushed them.
 * - Every call has a deadline, kept by one shared timer wheel (see
 *   {@link CallTracker}); a synchronous handler is answered without touching
 *   it at all.
 * - `hold(name)` parks new deliveries to `name`; `release(name)` delivers them,
 *   in arrival order, to whatever version `lookup(name)` returns then.
 * - An event's fields are read once, at the call; whatever a handler throws
 *   is answered 500: every call gets exactly one answer.
 */
export class MessageBus {
  readonly #lookup: (name: string) => Endpoint | undefined;
  readonly #logger: Logger;
  readonly #defaultTimeoutMs: number;
  readonly #defaultTicks: number;
  readonly #capacity: number;
  readonly #calls: CallTracker;
  readonly #queue = new PushQueue<PendingCall>();
  readonly #holds: Holds;
  #router: RemoteRouter | undefined = undefined;
  #loopScheduled = false;
  #closed = false;

  constructor(options: MessageBusOptions) {
    this.#lookup = options.lookup;
    this.#logger = options.logger;
    this.#defaultTimeoutMs = options.defaultTimeoutMs;
    this.#capacity = options.queueCapacity;
    this.#calls = new CallTracker(options.lookup, options.logger);
    this.#holds = new Holds((call) => this.#calls.track(call));
    this.#defaultTicks = this.#calls.ticksFor(Math.min(options.defaultTimeoutMs, MAX_TIMEOUT_MS));
  }

  /**
   * Delivers `event` to its target's handler now and resolves with its reply.
   * Resolves (never rejects) for delivery problems: 404, 408, 500, see `ReplyCode`.
   * @throws {InvalidEventError} (a rejection) when `event` is not an event.
   * @throws `options.signal.reason` (a rejection) when the signal aborts first.
   */
  send(event: Event, options?: CallOptions): Promise<Reply> {
    const invalid = readEvent(event, fields);
    if (invalid !== undefined) return Promise.reject(invalid);
    const { to, from, type, timeoutMs } = fields;
    if (options !== undefined || this.#holds.active || this.#closed) {
      return this.#track(event, to, from, type, timeoutMs, false, options);
    }
    if (to === "") return Promise.resolve(this.#forKernel(type, from));
    // The hot path: a synchronous handler is answered without a PendingCall.
    const outcome = this.#dispatch(event, to, from, type, timeoutMs, undefined);
    return outcome instanceof PendingCall ? outcome.promise : Promise.resolve(outcome);
  }

  /**
   * Queues `event` for the kernel's loop and resolves with the reply.
   * Answers 503 at once when `queueCapacity` pushed events are waiting for replies.
   * @throws {InvalidEventError} (a rejection) when `event` is not an event.
   * @throws `options.signal.reason` (a rejection) when the signal aborts first.
   */
  push(event: Event, options?: CallOptions): Promise<Reply> {
    const invalid = readEvent(event, fields);
    if (invalid !== undefined) return Promise.reject(invalid);
    const { to, from, type, timeoutMs } = fields;
    return this.#track(event, to, from, type, timeoutMs, true, options);
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
    this.#holds.hold(name, this.#queue);
  }

  /**
   * Delivers the held calls to whatever `lookup(name)` returns now, in
   * arrival order. Calls arriving while they are delivered queue behind them.
   * Returns how many were delivered (held calls that expired or were aborted are not).
   */
  release(name: string): number {
    return this.#holds.release(name, (call) => this.#deliver(call, true));
  }

  /** Calls the bus still tracks (queued, held, or waiting for a handler): 0 when idle, so tests can prove nothing leaks. */
  get pending(): number {
    // Held calls have running deadlines; queued ones are tracked only until the loop's microtask.
    return this.#calls.size + this.#queue.length;
  }

  /** Handler calls to `name` not yet settled whose callers still wait (or gave up by abort). */
  inFlight(name: string): number {
    return this.#calls.inFlight(name);
  }

  /**
   * Resolves `true` once no handler call to `name` is in flight, `false` at
   * `timeoutMs` (0, or not finite: no deadline). Each call is bounded by its
   * own deadline, so this ends at the latest when the last deadline passes.
   */
  drain(name: string, timeoutMs: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(true);
    return this.#calls.drain(name, timeoutMs);
  }

  /**
   * Answers every call whose handler is running in `name` with `reply` now
   * (its instance crashed: their results would never come). A result that
   * arrives later is dropped, as after a 408. Returns how many were answered.
   */
  abandon(name: string, reply: Reply): number {
    return this.#calls.abandon(name, reply);
  }

  /** Stops the deadline timer and answers every pending call 503 ("kernel is closed"). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const more: PendingCall[] = [];
    for (let call = this.#queue.shift(); call !== undefined; call = this.#queue.shift()) more.push(call);
    more.push(...this.#holds.clear());
    this.#calls.close(more);
  }

  /**
   * A call the bus answers later: a push, or a send with a signal, a hold
   * somewhere or a closed bus. Answers at once what needs no delivery.
   */
  #track(
    event: Event,
    to: string,
    from: string,
    type: string,
    timeoutMs: number | undefined,
    isPush: boolean,
    options: CallOptions | undefined,
  ): Promise<Reply> {
    let signal: unknown;
    try {
      signal = options?.signal;
    } catch (error) {
      return Promise.reject(badSignal(to, error));
    }
    if (signal !== undefined) {
      if (!isAbortSignal(signal)) return Promise.reject(badSignal(to, signal));
      if (signal.aborted) return Promise.reject(signal.reason);
    }
    if (to === "") return Promise.resolve(this.#forKernel(type, from));
    if (this.#closed) return Promise.resolve(closed(to));
    if (isPush && this.#calls.waitingPushes >= this.#capacity) {
      const endpoint = this.#lookup(to);
      if (endpoint !== undefined) endpoint.stats.refused++;
      return Promise.resolve(queueFull(to, this.#capacity));
    }
    const ticks = timeoutMs === undefined ? this.#defaultTicks : this.#calls.ticksFor(timeoutMs);
    const call = new PendingCall(event, to, type, from, timeoutMs ?? this.#defaultTimeoutMs, isPush, ticks);
    if (isPush) this.#calls.waitingPushes++;
    if (signal !== undefined) this.#calls.watch(call, signal);
    if (!isPush) {
      this.#deliver(call, false);
      return call.promise;
    }
    if (this.#holds.active && this.#holds.park(call)) return call.promise;
    this.#queue.push(call);
    if (!this.#loopScheduled) {
      this.#loopScheduled = true;
      // A native promise reaction: Node's queueMicrotask wraps every callback in an async resource (~3x the cost).
      void RESOLVED.then(this.#loop);
    }
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
    if (!released && this.#holds.active && this.#holds.park(call)) return;
    const outcome = this.#dispatch(call.event, to, call.from, call.type, call.timeoutMs, call);
    if (outcome !== call) this.#calls.finish(call, outcome as Reply);
  }

  /**
   * The one delivery: calls the target's handler and returns its reply when
   * it is known now, or the call (made now when `call` is undefined, which is
   * send's fast path) that the handler's pending result, or the remote
   * router, will answer. The router is asked only when the target does not
   * run here, so local calls never pay for it.
   */
  #dispatch(
    event: Event,
    to: string,
    from: string,
    type: string,
    timeoutMs: number | undefined,
    call: PendingCall | undefined,
  ): Reply | PendingCall {
    const endpoint = this.#lookup(to);
    const service = endpoint?.service;
    if (endpoint === undefined || endpoint.status !== "running" || typeof service?.handle !== "function") {
      if (this.#router !== undefined) {
        call ??= this.#newCall(event, to, from, type, timeoutMs);
        if (this.#calls.forward(call, this.#router)) return call;
      }
      return endpoint === undefined ? notRegistered(to) : refused(endpoint, to);
    }
    let result: unknown;
    try {
      result = service.handle(event, endpoint.context);
      // Inside the try: a `then` getter that throws is the handler failing.
      if (!isThenable(result)) return replied(endpoint, to, type, result, this.#logger);
    } catch (error) {
      return failed(endpoint, to, type, error, this.#logger);
    }
    call ??= this.#newCall(event, to, from, type, timeoutMs);
    this.#calls.run(call, endpoint, result);
    return call;
  }

  /** A send that must be answered later (its handler is async, or it goes to another node). */
  #newCall(event: Event, to: string, from: string, type: string, timeoutMs: number | undefined): PendingCall {
    const ticks = timeoutMs === undefined ? this.#defaultTicks : this.#calls.ticksFor(timeoutMs);
    return new PendingCall(event, to, type, from, timeoutMs ?? this.#defaultTimeoutMs, false, ticks);
  }

  #forKernel(type: string, from: string): Reply {
    this.#logger.debug("kernel handled %s from %s", type, from);
    return kernelReply();
  }
}
