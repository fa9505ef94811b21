import type { Logger } from "@mk/logger";
import { LifecycleTimeoutError, StartFailedError, StopFailedError } from "./errors.ts";
import type { KernelEvents } from "./kernel-events.ts";
import type { ServiceRecord } from "./registry.ts";
import { createServiceContext, type Courier } from "./service-context.ts";
import type { ServiceStatus, StatusChange } from "./types.ts";
import { withDeadline } from "./with-deadline.ts";

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
}

export interface StopOneOptions {
  /**
   * Runs after in-flight handlers have drained and before `service.stop()`:
   * the kernel saves state here, so nothing handled after the save is lost.
   * If it throws, the service goes back to its previous status (it keeps
   * running) and `stopOne` rethrows.
   */
  beforeStop?: () => Promise<void>;
}

/**
 * The state machine of ONE service: raw start and stop with deadlines, status
 * transitions and events. No dependency cascade and no state saving here (the
 * kernel and hot swap compose those around it).
 *
 *   created|stopped|failed -> starting -> running | failed
 *   running -> stopping -> stopped | failed   (or back to running if beforeStop fails)
 */
export class Lifecycle {
  readonly #options: LifecycleOptions;

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
   * Starts `record.service` with a fresh AbortController and ServiceContext,
   * bounded by its start deadline. On failure or timeout the service is
   * `failed` and its signal aborted.
   * @throws {StartFailedError} when `start` throws or rejects.
   * @throws {LifecycleTimeoutError} (`START_TIMEOUT`) when it does not settle in time.
   */
  startOne(record: ServiceRecord): Promise<void> {
    const service = record.service;
    const controller = new AbortController();
    record.controller = controller;
    record.context = createServiceContext(record.name, record.logger, controller.signal, this.#options.bus);
    this.setStatus(record, "starting");
    const timeoutMs = service.startTimeoutMs ?? this.#options.startTimeoutMs;
    let pending: Promise<void> | undefined;
    try {
      pending = withDeadline(service.start?.(record.context), timeoutMs, () => new LifecycleTimeoutError("start", record.name, timeoutMs));
    } catch (error) {
      return Promise.reject(this.#startFailed(record, controller, error));
    }
    if (pending === undefined) {
      this.#started(record);
      return Promise.resolve();
    }
    return pending.then(
      () => this.#started(record),
      (error: unknown) => {
        throw this.#startFailed(record, controller, error);
      },
    );
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
  async stopOne(record: ServiceRecord, options: StopOneOptions = {}): Promise<void> {
    const service = record.service;
    const previous = record.status;
    const timeoutMs = service.stopTimeoutMs ?? this.#options.stopTimeoutMs;
    this.setStatus(record, "stopping");
    const drained = await this.#options.bus.drain(record.name, timeoutMs);
    if (!drained) this.#options.logger.warn("service %s: handlers still running after %d ms; stopping anyway", record.name, timeoutMs);
    if (options.beforeStop !== undefined) {
      try {
        await options.beforeStop();
      } catch (error) {
        this.setStatus(record, previous);
        throw error;
      }
    }
    record.controller.abort(new Error(`service "${record.name}" stopped`));
    try {
      await withDeadline(service.stop?.(), timeoutMs, () => new LifecycleTimeoutError("stop", record.name, timeoutMs));
    } catch (error) {
      this.setStatus(record, "failed");
      const failure = error instanceof LifecycleTimeoutError ? error : new StopFailedError(record.name, error);
      this.#options.logger.error("%s", failure.message);
      throw failure;
    }
    this.setStatus(record, "stopped");
    this.#options.logger.info("stopped %s", record.name);
  }

  #started(record: ServiceRecord): void {
    this.setStatus(record, "running");
    this.#options.logger.info("started %s", record.name);
  }

  #startFailed(record: ServiceRecord, controller: AbortController, error: unknown): Error {
    const failure = error instanceof LifecycleTimeoutError ? error : new StartFailedError(record.name, error);
    controller.abort(failure);
    if (record.controller === controller) this.setStatus(record, "failed");
    this.#options.logger.error("%s", failure.message);
    return failure;
  }
}
