import { Kernel, type Service, type ServiceStats, type ServiceStatus } from "@mk/core";
import { createLogger, jsonSink, textSink, type Logger, type ManagedLogger } from "@mk/logger";
import type { StateStore } from "@mk/state";
import type { LoadedConfig } from "../config/load-config.ts";
import type { ServiceConfig, ServiceMode } from "../config/types.ts";
import { CliError, ConfigError, describeError } from "../errors.ts";
import { DEFAULT_KEY_SOURCE, describeKeySource, makeCrypter } from "../keys/resolve-keys.ts";
import { BootRecord } from "./boot-record.ts";
import { checkNotOlder, planBoot, show } from "./boot-plan.ts";
import { loadService, modulePath } from "./load-service.ts";
import { DEFAULT_STORE, openStore, parseStoreUrl, redact } from "./store-url.ts";
import { TrackingLogger } from "./tracking-logger.ts";
import type { Snapshots } from "../dev/snapshots.ts";

/** One line of `mk ps`. */
export interface ServiceRow {
  name: string;
  status: ServiceStatus;
  version?: string;
  mode: ServiceMode;
  module: string;
  dependencies: string[];
  restarts: number;
  stats: ServiceStats;
  /** ISO time of the last save of its state (checkpoint, stop or swap) by this kernel. */
  lastCheckpoint?: string;
}

/** What `mk ps` reports. */
export interface KernelStatus {
  pid: number;
  config: string;
  store: string;
  startedAt: string;
  services: ServiceRow[];
}

interface Tracked {
  config: ServiceConfig;
  path: string;
  exportName: string;
  /** Has `exportState`: only such a service has a state to save. */
  stateful: boolean;
  lastCheckpoint?: string;
}

/** Options of {@link KernelRuntime.boot}. */
export interface BootOptions {
  env: NodeJS.ProcessEnv;
  /** Let a service import state saved by a newer version. @default false */
  allowDowngrade?: boolean;
  /** Ignore the boot record and boot what the config names. @default false */
  fromConfig?: boolean;
  /** mk dev: isolated services run from copies of their files, so a rollback finds the old code. */
  snapshots?: Snapshots;
}

/**
 * A kernel built from a config: the store and key it names, its services registered and
 * started in dependency order, and the operations the control socket offers. Every step
 * is told on one line through the `mk` logger.
 */
export class KernelRuntime {
  readonly kernel: Kernel;
  readonly log: Logger;
  readonly logger: ManagedLogger;
  readonly store: StateStore;
  readonly record: BootRecord;
  readonly #loaded: LoadedConfig;
  readonly #tracking: TrackingLogger;
  readonly #tracked = new Map<string, Tracked>();
  readonly #startedAt = new Date().toISOString();
  readonly #storeUrl: string;
  readonly #shutdownHooks: (() => Promise<void>)[] = [];
  #snapshots: Snapshots | undefined;

  private constructor(loaded: LoadedConfig, logger: ManagedLogger, store: StateStore, storeUrl: string) {
    const { config } = loaded;
    this.#loaded = loaded;
    this.logger = logger;
    this.log = logger.child("mk");
    this.store = store;
    this.#storeUrl = storeUrl;
    this.record = new BootRecord(loaded.file, loaded.dir);
    this.#tracking = new TrackingLogger(logger);
    const options: ConstructorParameters<typeof Kernel>[0] = { store, logger: this.#tracking };
    if (config.checkpointIntervalMs !== undefined) options.checkpointIntervalMs = config.checkpointIntervalMs;
    if (config.defaultTimeoutMs !== undefined) options.defaultTimeoutMs = config.defaultTimeoutMs;
    if (config.queueCapacity !== undefined) options.queueCapacity = config.queueCapacity;
    if (config.startTimeoutMs !== undefined) options.startTimeoutMs = config.startTimeoutMs;
    if (config.stopTimeoutMs !== undefined) options.stopTimeoutMs = config.stopTimeoutMs;
    if (config.supervision !== undefined) options.supervision = config.supervision;
    try {
      this.kernel = new Kernel(options);
    } catch (cause) {
      // The kernel checks supervision's values: say which file and field.
      throw new ConfigError("CONFIG_INVALID", loaded.file, `${loaded.file}: ${describeError(cause)}`, {
        cause,
        field: "supervision",
      });
    }
    this.kernel.on("crash", (event) => this.log.warn("%s crashed: %s", event.name, describeError(event.error)));
    this.kernel.on("gave-up", (event) =>
      this.log.error("%s crashed %d times: supervision gave up on it", event.name, event.restarts),
    );
    this.kernel.on("checkpoint", (event) => this.#saved(event.name));
    this.kernel.on("swap", (event) => {
      if (event.step === "migrated") this.#saved(event.name);
    });
    this.kernel.on("status", (event) => {
      if (event.to === "stopped") this.#saved(event.name);
    });
  }

  /** The logger every command that runs a kernel uses: text or JSON lines on stdout at the config's level. */
  static createLogger(config: LoadedConfig["config"]): ManagedLogger {
    const format = config.logger?.format ?? "text";
    return createLogger({
      level: config.logger?.level ?? "info",
      sinks: [format === "json" ? jsonSink() : textSink()],
    });
  }

  /**
   * Opens the store with the config's key, loads every service module (the boot record's
   * choice), refuses newer state for older code, registers everything in config order and
   * starts it in dependency order. On failure nothing keeps running (the kernel is closed).
   */
  static async boot(loaded: LoadedConfig, logger: ManagedLogger, options: BootOptions): Promise<KernelRuntime> {
    const { config, dir, file } = loaded;
    const log = logger.child("mk");
    log.info("config %s", file);
    const storeUrl = config.store ?? DEFAULT_STORE;
    const location = parseStoreUrl(storeUrl, dir);
    const keySource = config.key ?? DEFAULT_KEY_SOURCE;
    const crypter = await makeCrypter(keySource, config.previousKeys ?? [], {
      dir,
      env: options.env,
      mayCreateParams: async () => {
        // Only list() is used: it reads names, never contents, so no key is needed yet.
        const probe = await openStore(location, {
          encrypt: () => Promise.reject(new Error("unused")),
          decrypt: () => Promise.reject(new Error("unused")),
        });
        try {
          return (await probe.list()).length === 0;
        } finally {
          await probe.close?.();
        }
      },
    });
    const store = await openStore(location, crypter);
    log.info("store %s (key from %s, key id %d)", redact(storeUrl), describeKeySource(keySource), crypter.primaryKeyId);
    const runtime = new KernelRuntime(loaded, logger, store, storeUrl);
    try {
      await runtime.#boot(options);
    } catch (error) {
      await runtime.shutdown().catch((cause: unknown) => {
        log.error("stopping after the failed boot failed too: %s", describeError(cause));
      });
      throw error;
    }
    return runtime;
  }

  async #boot(options: BootOptions): Promise<void> {
    const { config, dir } = this.#loaded;
    this.#snapshots = options.snapshots;
    if (options.fromConfig !== true) await this.record.read();
    const plan = planBoot(config.services, dir, this.record);
    const services: Service[] = [];
    for (const step of plan) {
      const loadPath = await this.#copyFor(step.config, step.path);
      const service = await loadService(step.config, { path: loadPath, exportName: step.exportName });
      if (loadPath !== step.path) await this.#snapshots?.keep(step.config.name, loadPath);
      const warning = await checkNotOlder(this.store, service, show(step.path, dir), options.allowDowngrade === true);
      this.log.info(
        "booting %s%s from %s: %s",
        service.name,
        service.version === undefined ? "" : ` ${service.version}`,
        show(step.path, dir),
        step.reason,
      );
      if (warning !== undefined) this.log.warn("%s", warning);
      services.push(service);
      this.#tracked.set(service.name, {
        config: step.config,
        path: step.path,
        exportName: step.exportName,
        // An isolated service shows exportState only while it runs: count it as stateful.
        stateful: (step.config.mode ?? "in-process") !== "in-process" || typeof service.exportState === "function",
      });
    }
    for (const service of services) await this.kernel.register(service);
    this.log.info("starting %d service%s in dependency order", services.length, services.length === 1 ? "" : "s");
    await this.kernel.startAll();
    for (const step of plan) if (step.forget) await this.record.forget(step.config.name);
    this.log.info("running: %s", services.map((s) => s.name).join(", ") || "no services");
  }

  #saved(name: string): void {
    const tracked = this.#tracked.get(name);
    if (tracked?.stateful === true) tracked.lastCheckpoint = new Date().toISOString();
  }

  /** The config's folder. */
  get configDir(): string {
    return this.#loaded.dir;
  }

  /** What `mk ps` shows. */
  status(): KernelStatus {
    const services = this.kernel.services().map((info): ServiceRow => {
      const tracked = this.#tracked.get(info.name);
      const row: ServiceRow = {
        name: info.name,
        status: info.status,
        mode: tracked?.config.mode ?? "in-process",
        module: tracked === undefined ? "" : show(tracked.path, this.#loaded.dir),
        dependencies: info.dependencies,
        restarts: info.restarts,
        stats: info.stats,
      };
      if (info.version !== undefined) row.version = info.version;
      if (tracked?.lastCheckpoint !== undefined) row.lastCheckpoint = tracked.lastCheckpoint;
      return row;
    });
    return {
      pid: process.pid,
      config: this.#loaded.file,
      store: redact(this.#storeUrl),
      startedAt: this.#startedAt,
      services,
    };
  }

  /**
   * Hot-swaps `name` for the service `path` makes (loaded afresh), then records it so the
   * next boot runs it.
   * @throws {CliError} `INVALID_ARGUMENT` for a name not in the config; the swap's own error otherwise
   *   (the old version keeps serving).
   */
  async swap(
    name: string,
    path: string,
    by: string,
    options: { exportName?: string; version?: string } = {},
  ): Promise<{ from?: string; to?: string }> {
    const tracked = this.#require(name);
    const chosenExport = options.exportName ?? tracked.exportName;
    const config = options.version === undefined ? tracked.config : { ...tracked.config, version: options.version };
    const loadPath = await this.#copyFor(config, path);
    let service: Service;
    try {
      service = await loadService(config, { path: loadPath, exportName: chosenExport, fresh: true });
    } catch (error) {
      if (loadPath !== path) await this.#snapshots?.discard(loadPath, name);
      throw error;
    }
    const from = this.kernel.services().find((s) => s.name === name)?.version;
    this.log.info(
      "swapping %s%s -> %s from %s (%s)",
      name,
      from === undefined ? "" : ` ${from}`,
      service.version ?? "(no version)",
      show(path, this.#loaded.dir),
      by,
    );
    try {
      await this.kernel.replace(service);
    } catch (error) {
      if (loadPath !== path) await this.#snapshots?.discard(loadPath, name);
      throw error;
    }
    if (loadPath !== path) await this.#snapshots?.keep(name, loadPath);
    tracked.path = path;
    tracked.exportName = chosenExport;
    tracked.stateful =
      (tracked.config.mode ?? "in-process") !== "in-process" || typeof service.exportState === "function";
    const entry: Parameters<BootRecord["set"]>[1] = {
      module: path,
      configModule: modulePath(tracked.config.module, this.#loaded.dir),
      swappedAt: new Date().toISOString(),
      by,
    };
    if (chosenExport !== "default") entry.export = chosenExport;
    if (service.version !== undefined) entry.version = service.version;
    // The config's own module, reloaded (mk dev): the next boot loads it anyway.
    const reloaded = path === entry.configModule && chosenExport === (tracked.config.export ?? "default");
    if (reloaded) await this.record.forget(name);
    else await this.record.set(name, entry);
    if (reloaded) {
      this.log.info(
        "swapped %s: %s is running (the config's own module, reloaded)",
        name,
        service.version ?? "(no version)",
      );
    } else {
      this.log.info(
        "swapped %s: %s is running; the next boot runs it too (%s)",
        name,
        service.version ?? "(no version)",
        show(this.record.path, this.#loaded.dir),
      );
    }
    const result: { from?: string; to?: string } = {};
    if (from !== undefined) result.from = from;
    if (service.version !== undefined) result.to = service.version;
    return result;
  }

  async stop(name: string): Promise<void> {
    this.#require(name);
    await this.kernel.stop(name);
  }

  async start(name: string): Promise<void> {
    this.#require(name);
    await this.kernel.start(name);
  }

  async checkpoint(): Promise<void> {
    await this.kernel.checkpoint();
  }

  setLogLevel(level: string, name?: string): void {
    if (name !== undefined) this.#require(name);
    this.#tracking.setLevel(level, name);
    this.log.info("log level %s%s", level, name === undefined ? "" : ` for ${name}`);
  }

  /** Stops every service (saving its state) and closes the kernel. */
  /** Runs `hook` first when the runtime shuts down (mk dev stops watching before services stop). */
  onShutdown(hook: () => Promise<void>): void {
    this.#shutdownHooks.push(hook);
  }

  async shutdown(): Promise<void> {
    for (const hook of this.#shutdownHooks.splice(0)) {
      await hook().catch((error: unknown) =>
        this.log.warn("stopping mk dev's watcher failed: %s", describeError(error)),
      );
    }
    try {
      await this.kernel.close({ stopAll: true });
    } finally {
      await this.store.close?.();
    }
  }

  /** The module path of every service, for the file watcher of `mk dev`. */
  modules(): { name: string; path: string }[] {
    return [...this.#tracked].map(([name, t]) => ({ name, path: t.path }));
  }

  /** Where an isolated service loads from under mk dev (a copy), else `path` itself. */
  async #copyFor(config: ServiceConfig, path: string): Promise<string> {
    if (this.#snapshots === undefined || (config.mode ?? "in-process") === "in-process") return path;
    return this.#snapshots.take(config.name, path);
  }

  #require(name: string): Tracked {
    const tracked = this.#tracked.get(name);
    if (tracked === undefined) {
      throw new CliError(
        "INVALID_ARGUMENT",
        `no service "${name}" in ${this.#loaded.file}; it has ${[...this.#tracked.keys()].join(", ") || "none"}`,
      );
    }
    return tracked;
  }
}
