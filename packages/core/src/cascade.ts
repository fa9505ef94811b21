import type { Logger } from "@mk/logger";
import { InvalidStateError, LifecycleAggregateError, StartFailedError, StopFailedError, type ServiceFailure } from "./errors.ts";
import type { KeyedMutex } from "./keyed-mutex.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Persistence } from "./persistence.ts";
import type { Registry, ServiceRecord } from "./registry.ts";
import { dependentsClosure, startLevels, type DependencyGraph } from "./start-order.ts";

export interface CascadeOptions {
  registry: Registry;
  lifecycle: Lifecycle;
  persistence: Persistence;
  mutex: KeyedMutex;
  logger: Logger;
}

export interface StopOptions {
  /**
   * Stop even when saving the state fails (the failure is logged; the store
   * keeps its previous copy). Without it a failed save rejects the stop and
   * the service keeps running.
   * @default false
   */
  force?: boolean;
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
    registry.require(name);
    const levels = startLevels(registry, [name]);
    const started: string[] = [];
    for (const level of levels) {
      const records = level.map((n) => registry.require(n));
      const results = await Promise.allSettled(records.map((r) => this.#startRecord(r)));
      let failure: ServiceFailure | undefined;
      results.forEach((result, i) => {
        const service = (records[i] as ServiceRecord).name;
        if (result.status === "rejected") failure ??= { service, error: result.reason as Error };
        else if (result.value && service !== name) started.push(service);
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
      const results = await Promise.allSettled(records.map((r) => this.#stopRecord(r, options)));
      let failure: ServiceFailure | undefined;
      results.forEach((result, i) => {
        const service = (records[i] as ServiceRecord).name;
        if (result.status === "rejected") failure ??= { service, error: result.reason as Error };
        else if (result.value && service !== name) stopped.push(service);
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
    const levels = startLevels(registry);
    const failures: ServiceFailure[] = [];
    const skipped: string[] = [];
    for (const level of levels) {
      const runnable: ServiceRecord[] = [];
      for (const name of level) {
        const record = registry.get(name);
        if (record === undefined) continue;
        if (record.dependencies.every((d) => registry.get(d)?.status === "running")) runnable.push(record);
        else skipped.push(name);
      }
      const results = await Promise.allSettled(runnable.map((r) => this.#startRecord(r)));
      results.forEach((result, i) => {
        if (result.status === "rejected") failures.push({ service: (runnable[i] as ServiceRecord).name, error: result.reason as Error });
      });
    }
    if (skipped.length > 0) this.#o.logger.warn("not started because a dependency is not running: %s", skipped.join(", "));
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
    const known: DependencyGraph = {
      names: registry.names,
      dependenciesOf: (n) => registry.dependenciesOf(n)?.filter((d) => registry.get(d) !== undefined),
    };
    const levels = reversed(safeLevels(known));
    const dependents = new Map<string, string[]>();
    for (const name of known.names) {
      for (const dep of known.dependenciesOf(name) ?? []) {
        let list = dependents.get(dep);
        if (list === undefined) dependents.set(dep, (list = []));
        list.push(name);
      }
    }
    const failures: ServiceFailure[] = [];
    for (const level of levels) {
      const runnable: ServiceRecord[] = [];
      for (const name of level) {
        const record = registry.get(name);
        if (record === undefined || record.status !== "running") continue;
        const blocker = dependents.get(name)?.find((d) => registry.get(d)?.status === "running");
        if (blocker === undefined) runnable.push(record);
        else failures.push({ service: name, error: new InvalidStateError(name, `not stopped: "${blocker}" depends on it and is still running`) });
      }
      const results = await Promise.allSettled(runnable.map((r) => this.#stopRecord(r, options)));
      results.forEach((result, i) => {
        if (result.status === "rejected") failures.push({ service: (runnable[i] as ServiceRecord).name, error: result.reason as Error });
      });
    }
    if (failures.length > 0) throw new LifecycleAggregateError("stopAll", failures);
  }

  /** Resolves `true` when it started the service, `false` when it was already running. */
  #startRecord(record: ServiceRecord): Promise<boolean> {
    return this.#o.mutex.run(record.name, () => {
      if (record.status === "running") return false;
      const missing = record.dependencies.find((d) => this.#o.registry.get(d)?.status !== "running");
      if (missing !== undefined) {
        throw new StartFailedError(record.name, new InvalidStateError(missing, "dependency is not running"));
      }
      return this.#o.lifecycle.startOne(record).then(() => true);
    });
  }

  /** Resolves `true` when it stopped the service, `false` when it was not running. */
  #stopRecord(record: ServiceRecord, options: StopOptions): Promise<boolean> {
    return this.#o.mutex.run(record.name, async () => {
      if (record.status !== "running") return false;
      await this.#o.lifecycle.stopOne(record, { beforeStop: () => this.#save(record, options.force === true) });
      return true;
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

/** The exact reverse of a start plan: last level first, and inside a level the reverse of the call order. */
function reversed(levels: string[][]): string[][] {
  return levels.reverse().map((level) => level.reverse());
}

/** Levels of a graph that may hold a cycle (services changed by hot swaps): then registration order, one by one. */
function safeLevels(graph: DependencyGraph): string[][] {
  try {
    return startLevels(graph);
  } catch {
    // A cycle among registered services cannot block a stop: fall back to one service per level.
    return graph.names.map((n) => [n]);
  }
}
