import type { Logger } from "@mk/logger";
import { CheckpointFailedError, type ServiceFailure } from "../errors.ts";
import type { KernelEvents } from "../kernel-events.ts";
import type { KeyedMutex } from "../lifecycle/keyed-mutex.ts";
import type { Persistence } from "./persistence.ts";
import type { Registry } from "../registry/registry.ts";
import type { ServiceRecord } from "../registry/service-record.ts";

export interface CheckpointsOptions {
  registry: Registry;
  persistence: Persistence;
  mutex: KeyedMutex;
  events: KernelEvents;
  logger: Logger;
  /** 0 (or no store) turns the timer off. */
  intervalMs: number;
}

/**
 * Periodic saves of running exportable services. A tick skips a service whose
 * state did not change since its last save, and a service that is busy (being
 * stopped, started or swapped: it holds its mutex) rather than waiting for it;
 * a failed save is logged, emitted as `checkpoint-failed`, and simply tried
 * again next tick. Ticks never overlap, and the timer never keeps the process
 * alive.
 */
export class Checkpoints {
  readonly #options: CheckpointsOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #round: Promise<void> | undefined;

  constructor(options: CheckpointsOptions) {
    this.#options = options;
  }

  start(): void {
    const { intervalMs, persistence } = this.#options;
    if (this.#timer !== undefined || !persistence.enabled || !(intervalMs > 0)) return;
    this.#timer = setInterval(() => this.#tick(), intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a tick in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#round;
  }

  /**
   * Saves every running exportable service now, waiting for each one's
   * mutex (so it never overlaps a stop or swap), whether or not its state changed.
   * @throws {CheckpointFailedError} naming every service that could not be saved.
   */
  async saveAll(): Promise<void> {
    const records = this.#candidates();
    const results = await Promise.allSettled(
      records.map((record) => this.#options.mutex.run(record.name, () => this.#save(record, false))),
    );
    const failures: ServiceFailure[] = [];
    results.forEach((result, i) => {
      if (result.status === "rejected")
        failures.push({ service: (records[i] as ServiceRecord).name, error: result.reason as Error });
    });
    if (failures.length > 0) throw new CheckpointFailedError(failures);
  }

  #tick(): void {
    if (this.#round !== undefined) return;
    const saves: Promise<void>[] = [];
    for (const record of this.#candidates()) {
      // A busy service (stopping, swapping) is skipped, not waited for: the next tick gets it.
      const save = this.#options.mutex.tryRun(record.name, () => this.#save(record, true));
      if (save !== undefined) saves.push(save);
    }
    const round = Promise.allSettled(saves).then(() => {
      this.#round = undefined;
    });
    this.#round = round;
  }

  #candidates(): ServiceRecord[] {
    const { registry, persistence } = this.#options;
    const out: ServiceRecord[] = [];
    for (const record of registry.records()) {
      if (record.status === "running" && persistence.canSave(record.service)) out.push(record);
    }
    return out;
  }

  async #save(record: ServiceRecord, onlyIfChanged: boolean): Promise<void> {
    // Re-checked under the mutex: the service may have stopped while this waited.
    if (record.status !== "running" || this.#options.registry.get(record.name) !== record) return;
    const { events, logger, persistence } = this.#options;
    const version = record.service.version;
    try {
      if (!(await persistence.saveState(record, { onlyIfChanged }))) return;
    } catch (error) {
      const failure = error as Error;
      logger.error("checkpoint of %s failed (retried next tick): %s", record.name, failure.message);
      events.emit(
        "checkpoint-failed",
        version === undefined ? { name: record.name, error: failure } : { name: record.name, version, error: failure },
      );
      throw failure;
    }
    logger.debug("checkpoint of %s saved", record.name);
    events.emit("checkpoint", version === undefined ? { name: record.name } : { name: record.name, version });
  }
}
