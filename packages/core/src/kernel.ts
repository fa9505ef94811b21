import { describeThrown } from "@mk/common";
import { createLogger, type Logger } from "@mk/logger";
import { Cascade } from "./lifecycle/dependency-order.ts";
import { Checkpoints } from "./persistence/checkpoints.ts";
import { InvalidStateError, KernelClosedError } from "./errors.ts";
import { HotSwap } from "./swap/hot-swap.ts";
import type { KernelEventListener, KernelEventName } from "./events.ts";
import { KernelEvents } from "./kernel-events.ts";
import { KeyedMutex } from "./lifecycle/keyed-mutex.ts";
import { Lifecycle } from "./lifecycle/lifecycle.ts";
import { MessageBus } from "./bus/message-bus.ts";
import { OperationGate, targetOf } from "./operation-gate.ts";
import { assertRemoteRouter, assertValidName, readStopAll } from "./validate.ts";
import { resolveOptions } from "./options.ts";
import { Persistence } from "./persistence/persistence.ts";
import { Registration } from "./registry/registration.ts";
import { Registry } from "./registry/registry.ts";
import type { RunSupervisor } from "./lifecycle/service-context.ts";
import { installShutdownHooks } from "./lifecycle/shutdown-hooks.ts";
import { Supervisor } from "./supervision/supervisor.ts";
import type {
  CallOptions,
  CloseOptions,
  Event,
  KernelOptions,
  RemoteRouter,
  Reply,
  Service,
  ServiceInfo,
  ServiceStatus,
  StopOptions,
} from "./types.ts";

/**
 * The microkernel: registers services, starts and stops them in dependency
 * order, carries messages between them, persists their state, and hot-swaps
 * them. It composes small parts (registry, lifecycle, cascade, message bus,
 * persistence, checkpoints, hot swap) and holds no logic of its own beyond
 * the "closed" guard.
 *
 * @example
 * const kernel = new Kernel();
 * await kernel.register({ name: "echo", handle: (e) => ({ code: 0, message: "ok", data: e.content }) });
 * await kernel.startAll();
 * await kernel.send({ to: "echo", from: "main", type: "say", content: "hi" });
 * await kernel.close({ stopAll: true });
 */
export class Kernel {
  readonly #logger: Logger;
  readonly #events: KernelEvents;
  readonly #registry = new Registry();
  readonly #mutex = new KeyedMutex();
  readonly #persistence: Persistence;
  readonly #bus: MessageBus;
  readonly #lifecycle: Lifecycle;
  readonly #cascade: Cascade;
  readonly #registration: Registration;
  readonly #checkpoints: Checkpoints;
  readonly #swap: HotSwap;
  readonly #supervisor: Supervisor;
  readonly #gate = new OperationGate();
  #removeShutdownHooks: (() => void) | undefined;

  /** @throws {InvalidArgumentError} for an option of the wrong type or out of range. */
  constructor(options: KernelOptions = {}) {
    const o = resolveOptions(options);
    const root = o.logger ?? createLogger();
    this.#logger = root.child("kernel");
    this.#events = new KernelEvents(this.#logger);
    this.#persistence = new Persistence(o.store, this.#logger);
    this.#bus = new MessageBus({
      lookup: (name: string) => this.#registry.get(name),
      defaultTimeoutMs: o.defaultTimeoutMs,
      queueCapacity: o.queueCapacity,
      logger: this.#logger,
    });
    // Contexts are made before the supervisor exists; they reach it through this late-bound pair.
    const supervisor: RunSupervisor = {
      fail: (name, run, error) => this.#supervisor.fail(name, run, error),
      checkpoint: (name, run) => this.#supervisor.checkpoint(name, run),
    };
    this.#lifecycle = new Lifecycle({
      supervisor,
      bus: this.#bus,
      events: this.#events,
      logger: this.#logger,
      startTimeoutMs: o.startTimeoutMs,
      stopTimeoutMs: o.stopTimeoutMs,
    });
    const parts = {
      registry: this.#registry,
      lifecycle: this.#lifecycle,
      persistence: this.#persistence,
      mutex: this.#mutex,
      logger: this.#logger,
    };
    this.#cascade = new Cascade(parts);
    this.#registration = new Registration({ ...parts, root, events: this.#events, bus: this.#bus, supervisor });
    this.#checkpoints = new Checkpoints({ ...parts, events: this.#events, intervalMs: o.checkpointIntervalMs });
    this.#swap = new HotSwap({ ...parts, bus: this.#bus, events: this.#events, drainTimeoutMs: o.stopTimeoutMs });
    this.#supervisor = new Supervisor({
      ...parts,
      policy: o.supervision,
      bus: this.#bus,
      cascade: this.#cascade,
      events: this.#events,
      exit: () => this.#exitAfterGivingUp(),
    });
    this.#checkpoints.start();
  }

  /**
   * Adds a service (status `created`). With a store, its saved state is loaded
   * and imported first (if it has `importState`).
   * @throws {InvalidNameError} for an invalid name or dependency name.
   * @throws {AlreadyRegisteredError} when the name is taken (nothing is loaded).
   * @throws {StateLoadFailedError} when the saved state cannot be loaded or imported (nothing is registered).
   */
  register(service: Service): Promise<void> {
    return this.#gate.run("register", () => this.#registration.register(service));
  }

  /**
   * Removes a service that is not running. Its saved state stays in the store.
   * @throws {ServiceNotFoundError}
   * @throws {InvalidStateError} while the service is running (stop it first).
   */
  unregister(name: string): Promise<void> {
    return this.#gate.run(
      "unregister",
      () => {
        if (typeof name === "string") this.#supervisor.cancel(name);
        return this.#registration.unregister(name);
      },
      name,
    );
  }

  /** Starts `name` and, first, its dependencies that are not running. No-op when it runs already. See {@link Cascade.start}. */
  start(name: string): Promise<void> {
    return this.#gate.run("start", () => this.#startByHand(name), name);
  }

  /** A start by hand takes over a pending restart: the calls it held go to the instance this start makes. */
  async #startByHand(name: string): Promise<void> {
    const held = typeof name === "string" && this.#supervisor.cancel(name, true);
    try {
      await this.#cascade.start(name);
    } finally {
      if (held) this.#bus.release(name);
    }
  }

  /** Saves and stops `name` after its running dependents. No-op when it is not running. See {@link Cascade.stop}. */
  stop(name: string, options?: StopOptions): Promise<void> {
    return this.#gate.run(
      "stop",
      () => {
        if (typeof name === "string") this.#supervisor.cancel(name);
        return this.#cascade.stop(name, options);
      },
      name,
    );
  }

  /**
   * Loads the saved state of `name` from the store again and imports it, as at
   * register, while the service is not running: a cluster standby taking over
   * starts from the state the previous owner saved, not from what it loaded
   * when it registered. Resolves `true` when a state was loaded, `false` when
   * the store has none (or there is no store, or the service cannot import).
   * @throws {ServiceNotFoundError}
   * @throws {InvalidStateError} while the service is starting, running or stopping.
   * @throws {StateLoadFailedError} when the load or the import fails.
   */
  reloadState(name: string): Promise<boolean> {
    return this.#gate.run(
      "reloadState",
      () => {
        assertValidName(name);
        return this.#mutex.run(name, async () => {
          const record = this.#registry.require(name);
          if (record.status === "starting" || record.status === "running" || record.status === "stopping") {
            throw new InvalidStateError(name, `cannot reload its state while it is ${record.status}`);
          }
          const loaded = await this.#persistence.loadState(record.service);
          record.lastSaved = loaded;
          return loaded !== undefined;
        });
      },
      name,
    );
  }

  /** Starts every service in dependency order. See {@link Cascade.startAll}. */
  startAll(): Promise<void> {
    return this.#gate.run("startAll", () => this.#cascade.startAll());
  }

  /** Saves and stops every running service, dependents first. See {@link Cascade.stopAll}. */
  stopAll(options?: StopOptions): Promise<void> {
    return this.#gate.run("stopAll", () => {
      this.#supervisor.cancelAll();
      return this.#cascade.stopAll(options);
    });
  }

  /**
   * Hot-swaps the service registered under `service.name` for `service`,
   * carrying its state across; rolls back on failure.
   * @throws {SwapFailedError}
   */
  replace(service: Service): Promise<void> {
    return this.#gate.run("replace", () => this.#swap.replace(service));
  }

  /**
   * Delivers `event` to its target's handler and resolves with the reply
   * (never rejects for a delivery problem: see the reply codes). While
   * `close` runs, calls are still answered with replies (served while the
   * target runs, 404 once it stopped); once `close` has resolved they reject
   * with `KernelClosedError`.
   */
  send(event: Event, options?: CallOptions): Promise<Reply> {
    // The hot path: one flag, no closure per call (the bus never throws synchronously).
    if (this.#gate.closed) return Promise.reject(new KernelClosedError("send", targetOf(event)));
    return this.#bus.send(event, options);
  }

  /** Like {@link Kernel.send}, through the kernel's bounded queue. */
  push(event: Event, options?: CallOptions): Promise<Reply> {
    if (this.#gate.closed) return Promise.reject(new KernelClosedError("push", targetOf(event)));
    return this.#bus.push(event, options);
  }

  /**
   * Installs the router that carries calls to services not running in this
   * kernel (`@mk/cluster` does this on `joinCluster`); `undefined` removes it.
   * Local calls never consult it; without one, such calls are answered 404.
   * @throws {InvalidArgumentError} when `router` is not a {@link RemoteRouter}.
   */
  setRemoteRouter(router: RemoteRouter | undefined): void {
    assertRemoteRouter(router);
    this.#bus.setRouter(router);
  }

  /**
   * @throws {InvalidNameError} for a name that cannot be a service's.
   * @throws {ServiceNotFoundError}
   */
  status(name: string): ServiceStatus {
    assertValidName(name);
    return this.#registry.require(name).status;
  }

  /** Every registered service in registration order, with a copy of its counters. */
  services(): ServiceInfo[] {
    return Array.from(this.#registry.records(), (r) => r.info());
  }

  /**
   * Saves every running exportable service now (changed or not).
   * @throws {CheckpointFailedError} naming each service that could not be saved.
   */
  checkpoint(): Promise<void> {
    return this.#gate.run("checkpoint", () => this.#checkpoints.saveAll());
  }

  /** Subscribes to kernel events (`status`, `checkpoint`, `checkpoint-failed`, `swap`, `crash`, `restart`, `gave-up`); returns the unsubscribe function. */
  on<K extends KernelEventName>(event: K, listener: KernelEventListener<K>): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Opt-in graceful shutdown: on the first of `signals`, `close({ stopAll: true })`,
   * then end the process as that signal would (re-raised, or exit status
   * 128 + signal number when the app listens to it too); a second signal ends
   * it at once. Calling it again replaces the previous hooks. Returns a
   * function that removes them.
   * @default signals ["SIGINT", "SIGTERM"]
   */
  enableShutdownHooks(signals: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"]): () => void {
    this.#removeShutdownHooks?.();
    const remove = installShutdownHooks(this, signals, this.#logger);
    this.#removeShutdownHooks = remove;
    return remove;
  }

  /**
   * Waits for the kernel operations in progress (a hot swap, a start, ...;
   * new ones are refused from now on), runs `stopAll` when asked, then stops
   * the checkpoint timer and the message bus (pending calls are answered).
   * Until it resolves, `send` and `push` are answered with replies.
   * Idempotent. Afterwards every operation but `status`, `services` and `on`
   * rejects with `KernelClosedError`.
   * @throws {LifecycleAggregateError} when `stopAll` was asked and failed (the kernel is closed anyway).
   */
  close(options: CloseOptions = {}): Promise<void> {
    let stopAll: boolean;
    try {
      stopAll = readStopAll(options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.#gate.close(() => this.#shutdown(stopAll));
  }

  /** Supervision's `onGiveUp: "exit"`: close (stopping what runs) and let systemd or Kubernetes take over. */
  #exitAfterGivingUp(): void {
    void this.close({ stopAll: true })
      .catch((error: unknown) => this.#logger.error("closing after giving up failed: %s", describeThrown(error)))
      .finally(() => process.exit(1));
  }

  /** What `close` does once the operations in flight have finished. */
  async #shutdown(stopAll: boolean): Promise<void> {
    this.#supervisor.close();
    let failure: unknown;
    try {
      if (stopAll) await this.#cascade.stopAll();
    } catch (error) {
      failure = error;
    }
    await this.#checkpoints.stop();
    this.#bus.close();
    this.#removeShutdownHooks?.();
    this.#logger.info("kernel closed");
    if (failure !== undefined) throw failure;
  }
}
