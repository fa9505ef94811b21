import { types } from "node:util";
import { describeThrown } from "@mk/common";
import type { Logger } from "@mk/logger";
import type { KernelEvents } from "../kernel-events.ts";
import type { KeyedMutex } from "../lifecycle/keyed-mutex.ts";
import type { LazyAbort } from "../lifecycle/lazy-abort.ts";
import type { Lifecycle } from "../lifecycle/lifecycle.ts";
import type { Persistence } from "../persistence/persistence.ts";
import type { Registry } from "../registry/registry.ts";
import type { ServiceRecord } from "../registry/service-record.ts";
import { dependentsClosure } from "../registry/start-order.ts";
import type { Reply } from "../types.ts";
import { backoffDelay } from "./backoff.ts";
import { RestartWindow } from "./intensity.ts";
import type { SupervisionPolicy } from "./policy.ts";

/** What supervision needs from the message bus. */
export interface SupervisedBus {
  hold(name: string): void;
  release(name: string): number;
  /** Answers every call whose handler is running in `name` with `reply` now; returns how many. */
  abandon(name: string, reply: Reply): number;
}

/** What supervision needs from the dependency cascade (rest_for_one). */
export interface SupervisedCascade {
  stop(name: string): Promise<void>;
  start(name: string): Promise<void>;
}

export interface SupervisorOptions {
  policy: SupervisionPolicy;
  registry: Registry;
  lifecycle: Lifecycle;
  persistence: Persistence;
  mutex: KeyedMutex;
  bus: SupervisedBus;
  cascade: SupervisedCascade;
  events: KernelEvents;
  logger: Logger;
  /** onGiveUp "exit": closes the kernel (stopping what runs), then exits the process. */
  exit: () => void;
}

interface Pending {
  timer: ReturnType<typeof setTimeout> | undefined;
  cancelled: boolean;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * OTP's "normal" exit: a `fail` reason carrying `normal: true` (an isolate
 * that exited with code 0 on its own). Only `transient` services treat it
 * differently: they are not restarted.
 */
function isNormalEnd(error: Error): boolean {
  return (error as { normal?: unknown }).normal === true;
}

/** The crash reason as an Error; anything else (a Proxy, a null-prototype object) is described safely. */
function asError(value: unknown): Error {
  if (types.isNativeError(value)) {
    try {
      if (typeof value.message === "string") return value;
    } catch {
      // Its message getter throws: wrap it below, so `.message` is always safe to read.
    }
  }
  return new Error(describeThrown(value));
}

/**
 * Crashes and restarts, Erlang/OTP style, over the dependency graph. A crash
 * (`ctx.fail`, which an isolate's death also calls) is handled at once:
 * deliveries to the service are held, the calls its dead instance held are
 * answered 503, its run's signal aborts. Then, per the service's `restart`
 * type and the kernel's intensity (`maxRestarts` within `periodMs`), it is
 * restarted after a jittered exponential delay, importing the state last
 * saved for it, and the held calls go to the new instance in arrival order
 * (a held call whose deadline passes first gets 408 from the bus); or the
 * kernel gives up on it: status `failed`, held calls answered 404.
 */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #windows = new Map<string, RestartWindow>();
  readonly #pending = new Map<string, Pending>();
  #closed = false;

  constructor(options: SupervisorOptions) {
    this.#o = options;
  }

  /**
   * `ctx.fail(error)` of the run whose abort is `run`. A call from a run that
   * is already over (a late fail after a stop, a swap or an earlier crash) is ignored.
   */
  fail(name: string, run: LazyAbort, reason: unknown): void {
    const { registry, logger } = this.#o;
    const record = registry.get(name);
    const error = asError(reason);
    if (this.#closed || record === undefined || record.controller !== run || record.status !== "running") {
      logger.debug("ignored a crash report of %s from a run that is over: %s", name, error.message);
      return;
    }
    this.#crashed(record, error);
  }

  /** `ctx.checkpoint()`: saves the running service's state now (a no-op without a store). */
  async checkpoint(name: string, run: LazyAbort): Promise<void> {
    const record = this.#o.registry.get(name);
    if (record === undefined || record.controller !== run || record.status !== "running") return;
    await this.#o.persistence.saveState(record);
  }

  /**
   * Forgets a pending restart of `name` (the user stops, starts or
   * unregisters it). With `keepHold` the held calls stay held: the caller
   * releases them once its own start is done. Returns true when a restart was pending.
   */
  cancel(name: string, keepHold = false): boolean {
    const pending = this.#pending.get(name);
    if (pending === undefined) return false;
    pending.cancelled = true;
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    this.#pending.delete(name);
    if (!keepHold) this.#o.bus.release(name);
    return true;
  }

  /** The kernel closes: no restart happens any more. */
  close(): void {
    this.#closed = true;
    this.cancelAll();
  }

  /** `stopAll`: no service comes back behind its back. */
  cancelAll(): void {
    // A copy: cancel() deletes from the map.
    for (const name of Array.from(this.#pending.keys())) this.cancel(name);
  }

  #crashed(record: ServiceRecord, error: Error): void {
    const { bus, lifecycle, events } = this.#o;
    const name = record.name;
    bus.hold(name);
    // Pending from this moment, so a stop or start by hand in the same turn takes it over.
    const pending: Pending = { timer: undefined, cancelled: false };
    this.#pending.set(name, pending);
    lifecycle.setStatus(record, "failed");
    record.controller.abort(() => error);
    // A handler that called fail() is still inside handle(): the bus tracks its call once handle() returns.
    void RESOLVED.then(() => {
      const answered = bus.abandon(name, {
        code: 503,
        message: `service "${name}" crashed: ${error.message}; the call was not answered`,
      });
      if (events.has("crash")) events.emit("crash", { name, error, restarts: record.restarts });
      if (pending.cancelled) {
        this.#o.logger.warn(
          "service %s crashed: %s; stopped or started by hand meanwhile: no restart",
          name,
          error.message,
        );
        return;
      }
      this.#decide(record, error, answered, pending);
    });
  }

  /** Restart after a delay, or give up: one log line either way. */
  #decide(record: ServiceRecord, error: Error, answered: number, pending: Pending): void {
    const { policy, logger } = this.#o;
    const name = record.name;
    const type = record.service.restart ?? "permanent";
    const lost = answered > 0 ? `; ${answered} call(s) in flight answered 503` : "";
    if (type === "temporary") {
      logger.error(
        "service %s crashed: %s%s; restart type temporary: not restarted, status failed",
        name,
        error.message,
        lost,
      );
      this.#pending.delete(name);
      this.#o.bus.release(name);
      return;
    }
    if (type === "transient" && isNormalEnd(error)) {
      logger.info(
        "service %s ended normally: %s%s; restart type transient: not restarted, status stopped",
        name,
        error.message,
        lost,
      );
      this.#o.lifecycle.setStatus(record, "stopped");
      this.#pending.delete(name);
      this.#o.bus.release(name);
      return;
    }
    let window = this.#windows.get(name);
    if (window === undefined) this.#windows.set(name, (window = new RestartWindow()));
    const now = Date.now();
    if (!window.admit(now, policy.periodMs, policy.maxRestarts)) {
      this.#pending.delete(name);
      this.#giveUp(record, error, lost);
      return;
    }
    const attempt = window.count(now, policy.periodMs);
    const delay = backoffDelay(attempt, policy.initialMs, policy.maxMs);
    logger.warn(
      "service %s crashed: %s%s; restarting in %d ms (restart %d of %d allowed within %d ms)",
      name,
      error.message,
      lost,
      delay,
      attempt,
      policy.maxRestarts,
      policy.periodMs,
    );
    this.#pending.set(name, pending);
    pending.timer = setTimeout(() => {
      pending.timer = undefined;
      // Dependents start after the mutex is let go: starting one takes the lanes of its dependencies, this one's too.
      this.#o.mutex
        .run(name, () => this.#restart(record, error, pending))
        .then((dependents) => this.#startDependents(name, dependents))
        .catch((failure: unknown) =>
          this.#o.logger.error("restart of %s failed unexpectedly: %s", name, describeThrown(failure)),
        );
    }, delay);
  }

  #giveUp(record: ServiceRecord, error: Error, lost: string): void {
    const { policy, logger, events, bus } = this.#o;
    const name = record.name;
    const exit = policy.onGiveUp === "exit";
    logger.error(
      "service %s crashed: %s%s; gave up after %d restart(s) within %d ms: status failed%s",
      name,
      error.message,
      lost,
      policy.maxRestarts,
      policy.periodMs,
      exit ? "; onGiveUp is exit: closing the kernel and exiting with code 1" : ", the rest runs on",
    );
    bus.release(name);
    if (events.has("gave-up")) events.emit("gave-up", { name, error, restarts: record.restarts });
    if (exit) this.#o.exit();
  }

  /** Returns the dependents rest_for_one stopped, to start once the mutex is let go. */
  async #restart(record: ServiceRecord, crash: Error, pending: Pending): Promise<string[]> {
    const { registry, lifecycle, persistence, bus, events, logger, policy } = this.#o;
    const name = record.name;
    if (pending.cancelled || this.#closed) return [];
    if (this.#pending.get(name) === pending) this.#pending.delete(name);
    if (registry.get(name) !== record || record.status !== "failed") {
      // Started, stopped or unregistered by hand meanwhile: nothing left to restart.
      bus.release(name);
      return [];
    }
    const dependents = policy.strategy === "rest_for_one" ? await this.#stopDependents(record) : [];
    try {
      const loaded = await persistence.loadState(record.service);
      if (loaded !== undefined) record.lastSaved = loaded;
      await lifecycle.startOne(record);
    } catch (error) {
      const failure = asError(error);
      if (events.has("crash")) events.emit("crash", { name, error: failure, restarts: record.restarts });
      this.#decide(record, failure, 0, { timer: undefined, cancelled: false });
      for (const dependent of dependents) bus.release(dependent);
      return [];
    }
    record.restarts += 1;
    const delivered = bus.release(name);
    logger.info(
      "restarted %s (restart %d) from its last saved state; %d held call(s) delivered%s",
      name,
      record.restarts,
      delivered,
      dependents.length > 0 ? `; restarting its dependents ${dependents.join(", ")}` : "",
    );
    if (events.has("restart")) events.emit("restart", { name, error: crash, restarts: record.restarts });
    return dependents;
  }

  async #startDependents(name: string, dependents: readonly string[]): Promise<void> {
    const { cascade, bus, logger } = this.#o;
    for (const dependent of dependents) {
      try {
        await cascade.start(dependent);
      } catch (error) {
        logger.error(
          "rest_for_one: dependent %s of %s did not start again: %s",
          dependent,
          name,
          describeThrown(error),
        );
      } finally {
        bus.release(dependent);
      }
    }
  }

  /**
   * rest_for_one: the crashed service's running dependents, transitively,
   * stopped dependents first (their state saved as at any stop), their calls
   * held. Returns them in start order (dependencies first).
   */
  async #stopDependents(record: ServiceRecord): Promise<string[]> {
    const { registry, cascade, logger, bus } = this.#o;
    const closure = dependentsClosure(registry, [record.name]).filter((n) => n !== record.name);
    const running = new Set(closure.filter((n) => registry.get(n)?.status === "running"));
    if (running.size === 0) return [];
    const order = registry
      .plan()
      .flat()
      .map((r) => r.name)
      .filter((n) => running.has(n));
    for (const name of order) bus.hold(name);
    for (const name of [...order].reverse()) {
      try {
        await cascade.stop(name);
      } catch (error) {
        logger.error("rest_for_one: dependent %s of %s did not stop: %s", name, record.name, describeThrown(error));
      }
    }
    logger.info(
      "rest_for_one: stopped %s (dependents of %s) before its restart",
      [...order].reverse().join(", "),
      record.name,
    );
    return order;
  }
}
