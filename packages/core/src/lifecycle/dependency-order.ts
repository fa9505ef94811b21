import type { Logger } from "@mk/logger";
import {
  InvalidStateError,
  LifecycleAggregateError,
  type ServiceFailure,
  StartFailedError,
  StopFailedError,
} from "../errors.ts";
import type { KeyedMutex, Lane } from "./keyed-mutex.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Persistence } from "../persistence/persistence.ts";
import type { StopOptions } from "../types.ts";
import { assertStopOptions, assertValidName } from "../validate.ts";
import type { Registry } from "../registry/registry.ts";
import type { ServiceRecord } from "../registry/service-record.ts";
import { dependentsClosure, dependentsMap, startLevels, type DependencyGraph } from "../registry/start-order.ts";
import { collect, reversed, safeLevels } from "./levels.ts";

export interface CascadeOptions {
  registry: Registry;
  lifecycle: Lifecycle;
  persistence: Persistence;
  mutex: KeyedMutex;
  logger: Logger;
}

/**
 * Dependency-ordered starts and stops, built on the one-service
 * {@link Lifecycle}. Invariant: a service never runs while one of its
 * dependencies is not running. The plan (levels) is computed, and cycles and
 * missing dependencies reported, before anything starts. Services of one level
 * start (or stop) concurrently and are called in registration order; the next
 * level waits for the whole level to settle.
 */
export class Cascade {
  readonly #o: CascadeOptions;

  constructor(options: CascadeOptions) {
    this.#o = options;
  }

  /**
   * Starts `name`, starting first whatever it depends on that is not running.
   * Idempotent: a running service is left as it is.
   * @throws {ServiceNotFoundError}, {MissingDependencyError}, {DependencyCycleError} before anything starts.
   * @throws the service's own StartFailedError / LifecycleTimeoutError, or a StartFailedError
   * of `name` whose cause is a dependency's failure. Dependencies already started stay running.
   */
  async start(name: string): Promise<void> {
    const { registry, logger } = this.#o;
    assertValidName(name);
    registry.require(name);
    const levels = startLevels(registry, { roots: [name] });
    const started: string[] = [];
    for (const level of levels) {
      const records = level.map((n) => registry.require(n));
      const results = await Promise.allSettled(
        records.map((r) => this.#startRecord(r, r.name === name ? undefined : started)),
      );
      let failure: ServiceFailure | undefined;
      results.forEach((result, i) => {
        if (result.status === "rejected")
          failure ??= { service: (records[i] as ServiceRecord).name, error: result.reason as Error };
      });
      if (failure !== undefined) {
        throw failure.service === name ? failure.error : new StartFailedError(name, failure.error);
      }
    }
    if (started.length > 0) logger.info("started %s after its dependencies %s", name, started.join(", "));
  }

  /**
   * Stops `name`, stopping first every running service that depends on it
   * (dependents of dependents first). Idempotent: a service that is not
   * running is left as it is. Stops at the first level with a failure, so
   * nothing is stopped while a dependent of it still runs.
   * @throws the service's own StateSaveFailedError / StopFailedError / LifecycleTimeoutError,
   * or a StopFailedError of `name` whose cause is a dependent's failure.
   */
  async stop(name: string, options: StopOptions = {}): Promise<void> {
    const { registry, logger } = this.#o;
    assertValidName(name);
    assertStopOptions(options);
    registry.require(name);
    const closure = new Set(dependentsClosure(registry, [name]));
    const sub: DependencyGraph = {
      names: [...closure],
      dependenciesOf: (n) => (closure.has(n) ? registry.dependenciesOf(n)?.filter((d) => closure.has(d)) : undefined),
    };
    const levels = reversed(safeLevels(sub));
    const stopped: string[] = [];
    for (const level of levels) {
      const records = level.map((n) => registry.require(n));
      const results = await Promise.allSettled(
        records.map((r) => this.#stopRecord(r, options, r.name === name ? undefined : stopped)),
      );
      let failure: ServiceFailure | undefined;
      results.forEach((result, i) => {
        if (result.status === "rejected")
          failure ??= { service: (records[i] as ServiceRecord).name, error: result.reason as Error };
      });
      if (failure !== undefined) {
        throw failure.service === name ? failure.error : new StopFailedError(name, failure.error);
      }
    }
    if (stopped.length > 0) logger.info("stopped %s after its dependents %s", name, stopped.join(", "));
  }

  /**
   * Starts every registered service that is not running, level by level. A
   * failure does not stop the others: it holds back only the services that
   * depend on the failed one. Services that did start are kept running.
   * @throws {MissingDependencyError}, {DependencyCycleError} before anything starts.
   * @throws {LifecycleAggregateError} (`START_ALL_FAILED`) naming each failure and the services held back.
   */
  async startAll(): Promise<void> {
    const { registry } = this.#o;
    const levels = registry.plan();
    const failures: ServiceFailure[] = [];
    const skipped: string[] = [];
    const { mutex, lifecycle } = this.#o;
    // One map for the whole run, emptied after each level that used it.
    const errors = new Map<string, Error>();
    for (const level of levels) {
      const batch: ServiceRecord[] = [];
      const busy: Promise<void>[] = [];
      for (const record of level) {
        const name = record.name;
        if (!record.registered) continue;
        // Free services are locked and started as one batch; a busy one (being
        // stopped, swapped, checkpointed) waits for its turn on its own.
        const lane = (record.lane ??= mutex.lane(name));
        if (!mutex.tryAcquire(lane)) {
          busy.push(
            this.#startRecord(record, undefined, skipped).catch(
              (error: unknown) => void errors.set(name, error as Error),
            ),
          );
        } else if (record.status === "running") {
          mutex.release(lane);
        } else if (!this.#dependenciesRunning(record)) {
          skipped.push(name);
          mutex.release(lane);
        } else {
          batch.push(record);
        }
      }
      const batchDone = lifecycle.startMany(batch, (record, error) => {
        mutex.release(record.lane as Lane);
        if (error !== undefined) errors.set(record.name, error);
      });
      if (busy.length > 0) await Promise.all([batchDone, ...busy]);
      else if (batchDone !== undefined) await batchDone;
      if (errors.size > 0) collect(level, errors, failures);
    }
    if (skipped.length > 0)
      this.#o.logger.warn("not started because a dependency is not running: %s", skipped.join(", "));
    if (failures.length > 0) throw new LifecycleAggregateError("startAll", failures, skipped);
  }

  /**
   * Stops every running service in the exact reverse of the start order
   * (levels last to first, each level called in reverse registration order),
   * going on past failures. A service whose dependent is still running (its
   * save failed) is not stopped, and is named too.
   * @throws {LifecycleAggregateError} (`STOP_ALL_FAILED`) naming each failure.
   */
  async stopAll(options: StopOptions = {}): Promise<void> {
    const { registry } = this.#o;
    assertStopOptions(options);
    let plan: readonly (readonly ServiceRecord[])[];
    try {
      plan = registry.plan();
    } catch {
      // A graph that cannot start (missing dependency, cycle) can still be stopped.
      plan = safeLevels(registry).map((level) => level.map((name) => registry.require(name)));
    }
    // Needed only once something failed: until then every dependent was stopped before its dependencies.
    let dependents: Map<string, string[]> | undefined;
    const failures: ServiceFailure[] = [];
    const { mutex, lifecycle, persistence } = this.#o;
    const errors = new Map<string, Error>();
    // The plan walked backwards (levels, and records inside a level), without copying it.
    for (let l = plan.length - 1; l >= 0; l--) {
      const level = plan[l] as readonly ServiceRecord[];
      const batch: ServiceRecord[] = [];
      const single: Promise<void>[] = [];
      for (let i = level.length - 1; i >= 0; i--) {
        const record = level[i] as ServiceRecord;
        const name = record.name;
        if (!record.registered || record.status !== "running") continue;
        if (failures.length > 0) dependents ??= dependentsMap(registry);
        const blocker = dependents?.get(name)?.find((d) => registry.get(d)?.status === "running");
        if (blocker !== undefined) {
          errors.set(name, new InvalidStateError(name, `not stopped: "${blocker}" depends on it and is still running`));
        } else if (
          lifecycle.needsDrain(record) ||
          persistence.canSave(record.service) ||
          !mutex.tryAcquire((record.lane ??= mutex.lane(name)))
        ) {
          // Draining, saving or a busy mutex: the one-service path.
          single.push(
            this.#stopRecord(record, options).catch((error: unknown) => void errors.set(name, error as Error)),
          );
        } else if (record.status !== "running") {
          mutex.release(record.lane);
        } else {
          batch.push(record);
        }
      }
      const batchDone = lifecycle.stopMany(batch, (record, error) => {
        mutex.release(record.lane as Lane);
        if (error !== undefined) errors.set(record.name, error);
      });
      if (single.length > 0) await Promise.all([batchDone, ...single]);
      else if (batchDone !== undefined) await batchDone;
      if (errors.size > 0) collect(level, errors, failures, true);
    }
    if (failures.length > 0) throw new LifecycleAggregateError("stopAll", failures);
  }

  #dependenciesRunning(record: ServiceRecord): boolean {
    const { registry } = this.#o;
    if (record.resolvedAt === registry.version) {
      for (const d of record.dependencyRecords) if (d.status !== "running") return false;
      return true;
    }
    for (const d of record.dependencies) if (registry.get(d)?.status !== "running") return false;
    return true;
  }

  /**
   * Starts the service unless it runs already; adds its name to `started`
   * (when given) if it did start it. A dependency that is not running makes it
   * a failure, or, when `held` is given, adds its name there instead.
   */
  #startRecord(record: ServiceRecord, started?: string[], held?: string[]): Promise<void> {
    return this.#o.mutex.run(record.name, () => {
      if (record.status === "running") return undefined;
      const { registry, lifecycle } = this.#o;
      if (!this.#dependenciesRunning(record)) {
        const missing = record.dependencies.find((d) => registry.get(d)?.status !== "running") ?? "";
        if (held === undefined)
          throw new StartFailedError(record.name, new InvalidStateError(missing, "dependency is not running"));
        held.push(record.name);
        return undefined;
      }
      started?.push(record.name);
      return lifecycle.startOne(record);
    });
  }

  /** Saves and stops the service if it runs; adds its name to `stopped` (when given) if it did stop it. */
  #stopRecord(record: ServiceRecord, options: StopOptions, stopped?: string[]): Promise<void> {
    return this.#o.mutex.run(record.name, () => {
      if (record.status !== "running") return undefined;
      stopped?.push(record.name);
      const { lifecycle, persistence } = this.#o;
      if (!persistence.canSave(record.service)) return lifecycle.stopOne(record);
      return lifecycle.stopOne(record, { beforeStop: () => this.#save(record, options.force === true) });
    });
  }

  async #save(record: ServiceRecord, force: boolean): Promise<void> {
    try {
      await this.#o.persistence.saveState(record);
    } catch (error) {
      if (!force) throw error;
      this.#o.logger.warn("%s; stopping anyway (force)", (error as Error).message);
    }
  }
}
