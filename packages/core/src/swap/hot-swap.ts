import { describeThrown } from "@mk/common";
import type { Logger } from "@mk/logger";
import { InvalidStateError, ServiceNotFoundError, SwapFailedError } from "../errors.ts";
import type { KernelEvents } from "../kernel-events.ts";
import type { KeyedMutex } from "../lifecycle/keyed-mutex.ts";
import type { Lifecycle } from "../lifecycle/lifecycle.ts";
import type { MessageBus } from "../bus/message-bus.ts";
import type { Persistence } from "../persistence/persistence.ts";
import { assertValidService } from "../validate.ts";
import type { Registry } from "../registry/registry.ts";
import type { ServiceRecord } from "../registry/service-record.ts";
import { startLevels, type DependencyGraph } from "../registry/start-order.ts";
import type { SwapEvent, SwapPhase } from "../events.ts";
import type { ImportInfo, Service } from "../types.ts";

export interface HotSwapOptions {
  registry: Registry;
  lifecycle: Lifecycle;
  mutex: KeyedMutex;
  bus: Pick<MessageBus, "hold" | "release" | "drain">;
  persistence: Persistence;
  events: KernelEvents;
  logger: Logger;
  /** Most time to wait for in-flight handler calls (each is bounded by its own deadline anyway). */
  drainTimeoutMs: number;
}

/** What the old version exported, to give back to it on a rollback after its stop. */
interface Snapshot {
  taken: boolean;
  state: unknown;
}

/** An error tagged with the swap phase it came from. */
class PhaseError {
  constructor(
    readonly phase: SwapPhase,
    readonly cause: unknown,
  ) {}
}

async function step<T>(phase: SwapPhase, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new PhaseError(phase, error);
  }
}

/**
 * Replaces a service by a new version under the same name, carrying its
 * state across, the way Erlang/OTP's code_change does, with rollback:
 *
 * 1. validate (nothing touched yet), under the service's mutex;
 * 2. hold new deliveries to the service and drain in-flight handler calls;
 * 3. export the old version's state, persist it through the store (save, then
 *    load back: encrypted, written, decrypted) or else structured-clone it,
 *    and import it into the new version, all while the old one still exists
 *    untouched, so a failure here only has to release the held messages;
 * 4. stop the old version, start the new one, release the held messages to it
 *    in arrival order.
 *
 * A failure at stop or start puts the old version back: its exported state is
 * imported again (when it can import) and it is started; held messages go to it.
 */
export class HotSwap {
  readonly #o: HotSwapOptions;

  constructor(options: HotSwapOptions) {
    this.#o = options;
  }

  /** @throws {SwapFailedError} naming the phase, with the cause; the old version keeps serving. */
  replace(next: Service): Promise<void> {
    try {
      assertValidService(next);
    } catch (error) {
      return Promise.reject(new SwapFailedError(nameOf(next), "validate", error));
    }
    return this.#o.mutex.run(next.name, () => this.#swap(next));
  }

  async #swap(next: Service): Promise<void> {
    const { registry, bus, logger } = this.#o;
    const name = next.name;
    const record = registry.get(name);
    if (record === undefined) throw new SwapFailedError(name, "validate", new ServiceNotFoundError(name));
    const old = record.service;
    try {
      this.#validate(record, next);
    } catch (error) {
      throw new SwapFailedError(name, "validate", error);
    }
    const started = performance.now();
    const versions = `${label(old)} -> ${label(next)}`;
    this.#emit(record, old, next, "begin");
    if (record.status !== "running") {
      await this.#replaceIdle(record, old, next, versions);
      logger.info("replaced %s %s (not running: not started)", name, versions);
      this.#emit(record, old, next, "done");
      return;
    }
    logger.info("hot swap of %s %s: holding its messages", name, versions);
    bus.hold(name);
    this.#emit(record, old, next, "held");
    let released = 0;
    const saved: Snapshot = { taken: false, state: undefined };
    try {
      await this.#swapRunning(record, old, next, saved);
      released = bus.release(name);
    } catch (failure) {
      const error = await this.#rollBack(record, old, next, failure as PhaseError, saved);
      bus.release(name);
      this.#emit(record, old, next, "rolled-back", error);
      throw error;
    }
    logger.info(
      "hot swap of %s %s done in %s ms; %d held message(s) went to the new version",
      name,
      versions,
      (performance.now() - started).toFixed(1),
      released,
    );
    this.#emit(record, old, next, "done");
  }

  async #swapRunning(record: ServiceRecord, old: Service, next: Service, saved: Snapshot): Promise<void> {
    const { bus, lifecycle, logger, drainTimeoutMs } = this.#o;
    const drained = await step("drain", () => bus.drain(record.name, drainTimeoutMs));
    if (!drained)
      logger.warn("hot swap of %s: handlers still running after %d ms; going on", record.name, drainTimeoutMs);
    this.#emit(record, old, next, "drained");
    await this.#migrate(record, old, next, saved);
    this.#emit(record, old, next, "migrated");
    // Drained above, with deliveries held since: the stop does not drain again.
    await step("stop", () => lifecycle.stopOne(record, { drained: true }));
    this.#emit(record, old, next, "stopped");
    record.setService(next);
    await step("start", () => lifecycle.startOne(record));
    this.#emit(record, old, next, "started");
  }

  async #replaceIdle(record: ServiceRecord, old: Service, next: Service, versions: string): Promise<void> {
    try {
      await this.#migrate(record, old, next, { taken: false, state: undefined });
    } catch (failure) {
      const { phase, cause } = failure as PhaseError;
      const error = new SwapFailedError(record.name, phase, cause);
      this.#o.logger.error("replacing %s %s failed; %s stays: %s", record.name, versions, label(old), error.message);
      this.#emit(record, old, next, "rolled-back", error);
      throw error;
    }
    record.setService(next);
  }

  /** Export, persist (or clone), import. Touches neither the old version's state nor the record. */
  async #migrate(record: ServiceRecord, old: Service, next: Service, saved: Snapshot): Promise<void> {
    if (typeof old.exportState !== "function") return;
    const exported = await step("export", () => old.exportState?.());
    saved.taken = true;
    saved.state = exported;
    const { state, info } = await step("transfer", () => this.#o.persistence.transfer(record, old, next, exported));
    if (typeof next.importState === "function") {
      await step("import", () => next.importState?.(state, info));
      this.#o.logger.debug("hot swap of %s: %s imported the state of %s", record.name, label(next), label(old));
    }
  }

  /** Puts the old version back in service; returns the error to reject the swap with. */
  async #rollBack(
    record: ServiceRecord,
    old: Service,
    next: Service,
    failure: PhaseError,
    saved: Snapshot,
  ): Promise<SwapFailedError> {
    const { lifecycle, logger } = this.#o;
    const error = new SwapFailedError(record.name, failure.phase, failure.cause);
    logger.error("%s; rolling back to %s", error.message, label(old));
    if (failure.phase !== "stop" && failure.phase !== "start") return error;
    if (failure.phase === "start") {
      // The new version may have half started (or time out and start later): ask it to stop, without waiting on it.
      void Promise.resolve()
        .then(() => next.stop?.())
        .catch((stopError: unknown) =>
          logger.warn(
            "hot swap of %s: stopping the failed new version failed too: %s",
            record.name,
            describeThrown(stopError),
          ),
        );
    }
    record.setService(old);
    try {
      // Its stop() ran: give it back exactly what it exported before, as a restart after a stop would get.
      if (saved.taken && typeof old.importState === "function") {
        const info: ImportInfo = {};
        if (old.version !== undefined) info.fromVersion = old.version;
        await old.importState(saved.state, info);
      }
      if (record.status !== "running") await lifecycle.startOne(record);
      logger.info("hot swap of %s rolled back: %s serves again", record.name, label(old));
      return error;
    } catch (restartError) {
      logger.error(
        "hot swap of %s: %s could not be restarted either: %s",
        record.name,
        label(old),
        describeThrown(restartError),
      );
      return new SwapFailedError(
        record.name,
        failure.phase,
        new AggregateError([failure.cause, restartError], "swap and rollback both failed"),
      );
    }
  }

  #validate(record: ServiceRecord, next: Service): void {
    const { registry } = this.#o;
    const name = record.name;
    if (next === record.service) throw new InvalidStateError(name, "the new version is the object already registered");
    if (record.status === "starting" || record.status === "stopping") {
      throw new InvalidStateError(name, `cannot swap while ${record.status}`);
    }
    // The graph as it would be after the swap: reports missing dependencies and cycles before anything changes.
    const after: DependencyGraph = {
      names: registry.names,
      dependenciesOf: (n) => (n === name ? (next.dependencies ?? []) : registry.dependenciesOf(n)),
    };
    startLevels(after, [name]);
    if (record.status !== "running") return;
    for (const dependency of next.dependencies ?? []) {
      const status = registry.get(dependency)?.status;
      if (status !== "running")
        throw new InvalidStateError(
          name,
          `the new version depends on "${dependency}", which is ${status ?? "not registered"}`,
        );
    }
  }

  #emit(
    record: ServiceRecord,
    old: Service,
    next: Service,
    stepName: SwapEvent["step"],
    error?: SwapFailedError,
  ): void {
    const { events } = this.#o;
    if (!events.has("swap")) return;
    const event: SwapEvent = { name: record.name, step: stepName };
    if (old.version !== undefined) event.fromVersion = old.version;
    if (next.version !== undefined) event.toVersion = next.version;
    if (error !== undefined) event.error = error;
    events.emit("swap", event);
  }
}

function label(service: Service): string {
  return service.version === undefined ? "(unversioned)" : `v${service.version}`;
}

/** The name to report a refused swap under: whatever `next.name` is, read without trusting it. */
function nameOf(next: unknown): string {
  if (typeof next !== "object" || next === null) return describeThrown(next, 80);
  try {
    const name = (next as { name?: unknown }).name;
    return typeof name === "string" ? name : describeThrown(name, 80);
  } catch {
    // A throwing getter: the validation error (the cause) says what is wrong.
    return "(unreadable name)";
  }
}
