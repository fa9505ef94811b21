import type { Logger } from "@mk/logger";
import { InvalidStateError } from "../errors.ts";
import type { KernelEvents } from "../kernel-events.ts";
import type { KeyedMutex } from "../lifecycle/keyed-mutex.ts";
import { assertValidName, assertValidService } from "../validate.ts";
import type { Persistence } from "../persistence/persistence.ts";
import { LazyAbort } from "../lifecycle/lazy-abort.ts";
import type { Registry } from "./registry.ts";
import { ServiceRecord } from "./service-record.ts";
import { createServiceContext, type Courier, type RunSupervisor } from "../lifecycle/service-context.ts";
import type { Service } from "../types.ts";

export interface RegistrationOptions {
  registry: Registry;
  persistence: Persistence;
  mutex: KeyedMutex;
  events: KernelEvents;
  bus: Courier;
  /** The kernel's root logger: each service gets `root.child(name)`. */
  root: Logger;
  logger: Logger;
  supervisor?: RunSupervisor;
}

/** `register` and `unregister`: the checks, in the order that guarantees a rejected registration changes nothing. */
export class Registration {
  readonly #o: RegistrationOptions;

  constructor(options: RegistrationOptions) {
    this.#o = options;
  }

  /**
   * Name and shape first, then the duplicate check (which reserves the name,
   * so a concurrent registration of it fails at once), and only then the
   * state load: a duplicate never touches the store.
   */
  async register(service: Service): Promise<void> {
    assertValidService(service);
    const { registry, persistence, events, logger } = this.#o;
    const name = service.name;
    registry.reserve(name);
    let loaded: { state: unknown } | undefined;
    try {
      loaded = await persistence.loadState(service);
    } catch (error) {
      registry.unreserve(name);
      // The caller gets the error; logging it at error too would report one failure twice.
      logger.debug("registration of %s refused: %s", name, (error as Error).message);
      throw error;
    }
    const serviceLogger = this.#o.root.child(name);
    const controller = new LazyAbort();
    const context = createServiceContext(name, serviceLogger, controller, this.#o.bus, this.#o.supervisor);
    const record = new ServiceRecord(service, registry.nextOrder(), serviceLogger, controller, context);
    record.lastSaved = loaded;
    registry.add(record);
    logger.info(loaded === undefined ? "registered %s" : "registered %s with its saved state", name);
    // Services may be registered in any order; this only says what it will wait for.
    for (const dependency of record.dependencies) {
      if (registry.get(dependency) === undefined)
        logger.warn('service "%s" depends on "%s", which is not registered (yet)', name, dependency);
    }
    if (events.has("status")) {
      events.emit(
        "status",
        service.version === undefined
          ? { name, from: undefined, to: "created" }
          : { name, version: service.version, from: undefined, to: "created" },
      );
    }
  }

  /**
   * Refuses while the service runs (stop it first: `stop` also stops what
   * depends on it). Services that depend on it stay registered and will fail
   * to start with MISSING_DEPENDENCY until it is registered again.
   */
  unregister(name: string): Promise<void> {
    assertValidName(name);
    const { registry, mutex, logger } = this.#o;
    registry.require(name);
    return mutex.run(name, () => {
      const record = registry.require(name);
      if (record.status !== "created" && record.status !== "stopped" && record.status !== "failed") {
        throw new InvalidStateError(name, `cannot unregister while ${record.status}; stop it first`);
      }
      registry.delete(name);
      mutex.forget(name);
      record.controller.abort(() => new Error(`service "${name}" unregistered`));
      logger.info("unregistered %s", name);
    });
  }
}
