import { AlreadyRegisteredError, ServiceNotFoundError } from "../errors.ts";
import { planRecords } from "./record-plan.ts";
import type { ServiceRecord } from "./service-record.ts";
import type { DependencyGraph } from "./start-order.ts";

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
