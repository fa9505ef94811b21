import type { Logger } from "@mk/logger";
import type { StatusChange } from "../events.ts";
import type { KernelEvents } from "../kernel-events.ts";
import type { ServiceRecord } from "../registry/service-record.ts";
import type { ServiceStatus } from "../types.ts";
import { LazyAbort } from "./lazy-abort.ts";
import { createServiceContext, type Courier, type RunSupervisor } from "./service-context.ts";
import { settleBatch } from "./settle.ts";
import { Timeouts } from "./timeouts.ts";
import { begin, type Outcome, type Transition, type TransitionKind, type TransitionOutcomes } from "./transition.ts";

/** What the lifecycle needs from the message bus: deliveries for the service contexts, and draining before a stop. */
export interface LifecycleBus extends Courier {
  /** Resolves `true` once no handler call to `name` is in flight, `false` at the deadline. */
  drain(name: string, timeoutMs: number): Promise<boolean>;
}

export interface LifecycleOptions {
  bus: LifecycleBus;
  events: KernelEvents;
  logger: Logger;
  /** Kernel default deadline of one `start`; a service's own `startTimeoutMs` wins. */
  startTimeoutMs: number;
  /** Kernel default deadline of one `stop` (and of draining before it). */
  stopTimeoutMs: number;
  /** Receives each run's `ctx.fail` and `ctx.checkpoint`. */
  supervisor?: RunSupervisor;
}

export interface StopOneOptions {
  /**
   * Runs after in-flight handlers have drained and before `service.stop()`:
   * the kernel saves state here, so nothing handled after the save is lost.
   * If it throws, the service goes back to its previous status (it keeps
   * running) and `stopOne` rethrows.
   */
  beforeStop?: () => Promise<void>;
  /** The caller drained the service's handler calls already (a hot swap, with deliveries held): skip the drain. */
  drained?: boolean;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The state machine of ONE service: raw start and stop with deadlines, status
 * transitions and events. No dependency cascade and no state saving here (the
 * kernel and hot swap compose those around it).
 *
 *   created|stopped|failed -> starting -> running | failed
 *   running -> stopping -> stopped | failed   (or back to running if beforeStop fails)
 *
 * Synchronous `start`/`stop` methods complete without a promise of their own
 * or a deadline; asynchronous ones share one timer per timeout value.
 */
export class Lifecycle implements TransitionOutcomes {
  readonly #options: LifecycleOptions;
  readonly #timeouts = new Timeouts();

  constructor(options: LifecycleOptions) {
    this.#options = options;
  }

  setStatus(record: ServiceRecord, to: ServiceStatus): void {
    const from = record.status;
    if (from === to) return;
    record.status = to;
    const { events } = this.#options;
    if (!events.has("status")) return;
    const change: StatusChange = { name: record.name, from, to };
    if (record.service.version !== undefined) change.version = record.service.version;
    events.emit("status", change);
  }

  /**
   * Starts `record.service` with a fresh abort signal and ServiceContext,
   * bounded by its start deadline. On failure or timeout the service is
   * `failed` and its signal aborted.
   * @throws {StartFailedError} when `start` throws or rejects.
   * @throws {LifecycleTimeoutError} (`START_TIMEOUT`) when it does not settle in time.
   */
  startOne(record: ServiceRecord): Promise<void> {
    return this.#one("start", record);
  }

  /**
   * {@link Lifecycle.startOne} for many services at once (one level of
   * `startAll`), without a promise per service: `done(record, error)` is
   * called for each as soon as its start settles (`error` undefined on
   * success). Returns `undefined` when every start was synchronous, else a
   * promise that resolves once all have settled or timed out.
   */
  startMany(records: readonly ServiceRecord[], done: Outcome): Promise<void> | undefined {
    return this.#many("start", records, done);
  }

  /**
   * {@link Lifecycle.stopOne} for many services at once (one level of
   * `stopAll`), for services that need neither draining (no `handle`) nor a
   * save (see {@link Lifecycle.needsDrain}). Same contract as
   * {@link Lifecycle.startMany}.
   */
  stopMany(records: readonly ServiceRecord[], done: Outcome): Promise<void> | undefined {
    return this.#many("stop", records, done);
  }

  /** True when stopping the service must first drain its in-flight handler calls. */
  needsDrain(record: ServiceRecord): boolean {
    return typeof record.service.handle === "function";
  }

  /**
   * Stops `record.service`: status `stopping` first (the bus answers new
   * messages 404), then waits for in-flight handlers (up to the stop
   * deadline), runs `beforeStop`, aborts the context's signal and calls
   * `service.stop()` bounded by the stop deadline.
   * @throws whatever `beforeStop` throws (the service is back to its previous status).
   * @throws {StopFailedError} when `stop` throws or rejects (status `failed`).
   * @throws {LifecycleTimeoutError} (`STOP_TIMEOUT`) when it does not settle in time (status `failed`).
   */
  stopOne(record: ServiceRecord, options: StopOneOptions = {}): Promise<void> {
    const previous = record.status;
    this.setStatus(record, "stopping");
    // A service without a handler has no handler calls in flight: nothing to drain.
    const drain = options.drained !== true && this.needsDrain(record);
    if (!drain && options.beforeStop === undefined) return this.#one("stop", record);
    return this.#drainThenStop(record, previous, drain, options);
  }

  async #drainThenStop(
    record: ServiceRecord,
    previous: ServiceStatus,
    drain: boolean,
    options: StopOneOptions,
  ): Promise<void> {
    const timeoutMs = record.service.stopTimeoutMs ?? this.#options.stopTimeoutMs;
    if (drain) {
      const drained = await this.#options.bus.drain(record.name, timeoutMs);
      if (!drained)
        this.#options.logger.warn(
          "service %s: handlers still running after %d ms; stopping anyway",
          record.name,
          timeoutMs,
        );
    }
    if (options.beforeStop !== undefined) {
      try {
        await options.beforeStop();
      } catch (error) {
        this.setStatus(record, previous);
        throw error;
      }
    }
    return this.#one("stop", record);
  }

  /** One start or stop as a promise: a batch of one. */
  #one(kind: TransitionKind, record: ServiceRecord): Promise<void> {
    let failure: Error | undefined;
    const pending = this.#many(kind, [record], (_record, error) => {
      failure = error;
    });
    if (pending === undefined) return failure === undefined ? RESOLVED : Promise.reject(failure);
    return pending.then(() => {
      if (failure !== undefined) throw failure;
    });
  }

  #many(kind: TransitionKind, records: readonly ServiceRecord[], done: Outcome): Promise<void> | undefined {
    let batch: Transition[] | undefined;
    for (const record of records) {
      const abort = kind === "start" ? this.#prepareStart(record) : this.#prepareStop(record);
      const service = record.service;
      const timeoutMs =
        kind === "start"
          ? (service.startTimeoutMs ?? this.#options.startTimeoutMs)
          : (service.stopTimeoutMs ?? this.#options.stopTimeoutMs);
      const pending = begin(kind, this, record, abort, timeoutMs, done);
      if (pending !== undefined) (batch ??= []).push(pending);
    }
    return batch === undefined ? undefined : settleBatch(batch, this.#timeouts);
  }

  /** Every start gets a fresh signal and context, so nothing of a previous run leaks into the next. */
  #prepareStart(record: ServiceRecord): LazyAbort {
    const abort = new LazyAbort();
    record.controller = abort;
    record.context = createServiceContext(
      record.name,
      record.logger,
      abort,
      this.#options.bus,
      this.#options.supervisor,
    );
    this.setStatus(record, "starting");
    return abort;
  }

  #prepareStop(record: ServiceRecord): LazyAbort {
    this.setStatus(record, "stopping");
    const abort = record.controller;
    abort.abort(() => new Error(`service "${record.name}" stopped`));
    return abort;
  }

  /** The outcomes below are public for the {@link Transition} objects (see {@link TransitionOutcomes}). */
  started(record: ServiceRecord): void {
    this.setStatus(record, "running");
    this.#options.logger.info("started %s", record.name);
  }

  stopped(record: ServiceRecord): void {
    this.setStatus(record, "stopped");
    this.#options.logger.info("stopped %s", record.name);
  }

  startFailed(record: ServiceRecord, abort: LazyAbort, failure: Error): Error {
    abort.abort(() => failure);
    // A newer start may own the record by now (this one timed out earlier).
    if (record.controller === abort) this.setStatus(record, "failed");
    this.#options.logger.error("%s", failure.message);
    return failure;
  }

  stopFailed(record: ServiceRecord, failure: Error): Error {
    this.setStatus(record, "failed");
    this.#options.logger.error("%s", failure.message);
    return failure;
  }
}
