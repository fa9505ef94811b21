import type { Logger } from "@mk/logger";
import { InvalidArgumentError } from "../errors.ts";
import type { Lane } from "../lifecycle/keyed-mutex.ts";
import type { LazyAbort } from "../lifecycle/lazy-abort.ts";
import type { Service, ServiceContext, ServiceInfo, ServiceStats, ServiceStatus } from "../types.ts";

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
  /** Restarts after crashes since registration (supervision counts them). */
  restarts = 0;

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
      restarts: this.restarts,
    };
    if (this.service.version !== undefined) info.version = this.service.version;
    return info;
  }
}
