import type { Logger } from "@mk/logger";
import { AlreadyRegisteredError, InvalidArgumentError, ServiceNotFoundError } from "./errors.ts";
import type { Lane } from "./keyed-mutex.ts";
import type { LazyAbort } from "./lazy-abort.ts";
import { planRecords } from "./record-plan.ts";
import type { DependencyGraph } from "./start-order.ts";
import type { Service, ServiceContext, ServiceInfo, ServiceStats, ServiceStatus } from "./types.ts";

/**
 * Everything the kernel knows about one registered service. Satisfies the
 * message bus's `Endpoint` (status, service, context, stats).
 *
 * `service` is the CURRENT version: a hot swap puts the new version here with
 * {@link ServiceRecord.setService} (under the service's mutex), and the bus
 * delivers to whatever it finds at delivery time.
 */
export class ServiceRecord {
  readonly name: string;
  /** Registration order: ties in the start plan are broken by it. */
  readonly order: number;
  /** The service's child logger, the same across restarts and swaps. */
  readonly logger: Logger;
  readonly stats: ServiceStats = { handled: 0, failed: 0, timedOut: 0, refused: 0 };
  service: Service;
  /**
   * The current version's dependencies, copied when it was put in place: a
   * later change to the service's array does not change the plan behind the
   * kernel's back.
   */
  dependencies: readonly string[];
  /** Bumped on every change of the service version (the registry's plan cache depends on it). */
  #onChange: (() => void) | undefined;
  status: ServiceStatus = "created";
  /** False once unregistered (a plan computed before may still hold the record). */
  registered = true;
  /** This service's lane of the kernel's mutex, kept so batch starts and stops look nothing up. */
  lane: Lane | undefined;
  /** Set by the planner: position in the plan's node list. */
  planIndex = -1;
  /** Set by the planner: `dependencies` resolved to records, valid while the registry's version is `resolvedAt`. */
  dependencyRecords: readonly ServiceRecord[] = [];
  resolvedAt = -1;
  /** Recreated by every start; its signal aborts when the service stops. */
  context: ServiceContext;
  /** Aborts the current run's `context.signal`. */
  controller: LazyAbort;
  /** A structured clone of the state last saved or loaded, to skip unchanged checkpoints; `undefined` when none or not cloneable. */
  lastSaved: { state: unknown } | undefined;

  constructor(service: Service, order: number, logger: Logger, controller: LazyAbort, context: ServiceContext) {
    this.name = service.name;
    this.service = service;
    this.dependencies = Object.freeze([...(service.dependencies ?? [])]);
    this.order = order;
    this.logger = logger;
    this.controller = controller;
    this.context = context;
  }

  /** Puts a new version of the service in place (hot swap). The name must stay the same. */
  setService(service: Service): void {
    if (service.name !== this.name) {
      throw new InvalidArgumentError(`service "${this.name}": cannot put service "${service.name}" in its place`);
    }
    this.service = service;
    this.dependencies = Object.freeze([...(service.dependencies ?? [])]);
    this.#onChange?.();
  }

  /** @internal The registry listens, to drop its cached start plan. */
  onChange(listener: () => void): void {
    this.#onChange = listener;
  }

  info(): ServiceInfo {
    const info: ServiceInfo = {
      name: this.name,
      status: this.status,
      dependencies: [...this.dependencies],
      stats: { ...this.stats },
    };
    if (this.service.version !== undefined) info.version = this.service.version;
    return info;
  }
}

/** The registered services by name, in registration order; names being registered are reserved. */
export class Registry implements DependencyGraph {
  readonly #records = new Map<string, ServiceRecord>();
  readonly #reserved = new Set<string>();
  #order = 0;
  #version = 0;
  #plan: { version: number; levels: readonly (readonly ServiceRecord[])[] } | undefined;

  /** Changes whenever a service is added or removed or its dependencies may have changed. */
  get version(): number {
    return this.#version;
  }

  /**
   * The start plan of every service (see `planRecords`), kept until the
   * registry changes, so `stopAll` reuses the plan of the `startAll` before it.
   * @throws {MissingDependencyError}, {DependencyCycleError}
   */
  plan(): readonly (readonly ServiceRecord[])[] {
    if (this.#plan?.version !== this.#version) {
      const levels = planRecords([...this.#records.values()], (name) => this.#records.get(name), this.#version);
      this.#plan = { version: this.#version, levels };
    }
    return this.#plan.levels;
  }

  get(name: string): ServiceRecord | undefined {
    return this.#records.get(name);
  }

  /** @throws {ServiceNotFoundError} */
  require(name: string): ServiceRecord {
    const record = this.#records.get(name);
    if (record === undefined) throw new ServiceNotFoundError(name);
    return record;
  }

  /**
   * Claims `name` for a registration in progress, so a concurrent `register`
   * of the same name fails at once instead of racing through the state load.
   * @throws {AlreadyRegisteredError}
   */
  reserve(name: string): void {
    if (this.#records.has(name) || this.#reserved.has(name)) throw new AlreadyRegisteredError(name);
    this.#reserved.add(name);
  }

  /** Gives up a reservation (the registration failed). */
  unreserve(name: string): void {
    this.#reserved.delete(name);
  }

  /** Adds a record for a reserved name; `order` comes from {@link Registry.nextOrder}. */
  add(record: ServiceRecord): void {
    this.#reserved.delete(record.name);
    this.#records.set(record.name, record);
    this.#version += 1;
    record.onChange(() => {
      this.#version += 1;
    });
  }

  nextOrder(): number {
    return this.#order++;
  }

  delete(name: string): boolean {
    const record = this.#records.get(name);
    if (record === undefined) return false;
    record.registered = false;
    this.#version += 1;
    return this.#records.delete(name);
  }

  get size(): number {
    return this.#records.size;
  }

  records(): IterableIterator<ServiceRecord> {
    return this.#records.values();
  }

  /** Registration order (a Map keeps insertion order). */
  get names(): string[] {
    return [...this.#records.keys()];
  }

  dependenciesOf(name: string): readonly string[] | undefined {
    return this.#records.get(name)?.dependencies;
  }
}
