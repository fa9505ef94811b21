import type { Event, ImportInfo, Reply, Service, ServiceContext } from "@mk/core";
import { IsolateHost } from "./isolate-host.ts";
import type { IsolateCrashedError } from "./errors.ts";
import {
  assertModuleExists,
  checkOptions,
  type CheckedOptions,
  type IsolatedOptions,
  type RestartPolicy,
} from "./options.ts";
import type { ModuleInfo } from "./protocol.ts";

/** The kernel's own default stop deadline; an isolate is killed after it even if the kernel's is longer. */
const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/**
 * The kernel's view of an isolated service: an ordinary Service whose every
 * method crosses into the isolate. One isolate per run: `start` spawns a
 * fresh one (so new code never shares a module cache with old code), `stop`
 * ends it; state imported before a start waits here and goes into the fresh
 * isolate before its `start`.
 */
class IsolatedService {
  readonly name: string;
  readonly #o: CheckedOptions;
  readonly #options: IsolatedOptions;
  #host: IsolateHost | undefined;
  #info: ModuleInfo | undefined;
  #pending: { state: unknown; info: ImportInfo } | undefined;
  #ctx: ServiceContext | undefined;

  constructor(options: IsolatedOptions, checked: CheckedOptions) {
    this.name = checked.name;
    this.#o = checked;
    this.#options = options;
  }

  get version(): string | undefined {
    return this.#options.version;
  }

  get dependencies(): readonly string[] | undefined {
    return this.#options.dependencies;
  }

  get restart(): RestartPolicy | undefined {
    return this.#options.restart;
  }

  get startTimeoutMs(): number | undefined {
    return this.#options.startTimeoutMs;
  }

  get stopTimeoutMs(): number | undefined {
    return this.#options.stopTimeoutMs;
  }

  /**
   * Present when there is state to export: state imported but not yet
   * started (a swap before the first start must not lose it), or a running
   * module with `exportState`.
   */
  get exportState(): (() => unknown) | undefined {
    if (this.#host === undefined) {
      const pending = this.#pending;
      return pending === undefined ? undefined : () => pending.state;
    }
    return this.#info?.exportState === true ? this.#export : undefined;
  }

  readonly #export = (): Promise<unknown> => {
    const host = this.#host;
    if (host === undefined) return Promise.resolve(this.#pending?.state);
    return host.control("export");
  };

  importState(state: unknown, info: ImportInfo): Promise<void> | void {
    const host = this.#host;
    if (host !== undefined && host.alive && this.#info !== undefined) {
      return this.#info.importState ? host.control("import", { state, info }).then(() => undefined) : undefined;
    }
    this.#pending = { state, info };
    return undefined;
  }

  async start(ctx: ServiceContext): Promise<void> {
    assertModuleExists(this.name, this.#o.module);
    const host = new IsolateHost({
      init: { service: this.name, module: this.#o.module, mode: this.#o.mode },
      resourceLimits: this.#o.resourceLimits,
      hangTimeoutMs: this.#o.hangTimeoutMs,
      context: ctx,
      onCrash: (error) => this.#crashed(host, ctx, error),
    });
    this.#host = host;
    this.#info = undefined;
    this.#ctx = ctx;
    // The kernel gave up on this start (its deadline): the isolate must not live on.
    const onAbort = (): void => {
      if (this.#host === host && this.#info === undefined) void host.close();
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      // Sent at once, run by the isolate once its module is loaded: no round trip waits for I_READY.
      const pending = this.#pending;
      const steps = [
        ...(pending === undefined ? [] : [host.control("import", pending)]),
        host.control("start", { level: ctx.logger.level }),
      ];
      // A load failure rejects these too; `ready` carries the error that says why.
      for (const step of steps) step.catch(() => undefined);
      const info = await host.ready;
      for (const step of steps) await step;
      this.#pending = undefined;
      this.#info = info;
    } catch (error) {
      if (this.#host === host) this.#host = undefined;
      await host.close();
      throw error;
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
    }
  }

  async stop(): Promise<void> {
    const host = this.#host;
    if (host === undefined) return;
    if (!host.alive) {
      this.#host = undefined;
      await host.close();
      return;
    }
    host.quiet();
    // Bounded here too: with the heartbeat off, a stuck isolate would otherwise outlive its stop.
    const limitMs = this.#options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"expired">((resolve) => {
      timer = setTimeout(() => resolve("expired"), limitMs);
    });
    const inside = this.#stopInside(host);
    // Once the isolate is killed below, a stop still waiting inside rejects: nobody waits for it any more.
    inside.catch(() => undefined);
    try {
      if ((await Promise.race([inside, expired])) === "expired") {
        this.#ctx?.logger.warn("isolate did not stop within %d ms; it was killed", limitMs);
      }
    } finally {
      clearTimeout(timer);
      if (this.#host === host) this.#host = undefined;
      await host.close();
    }
  }

  async #stopInside(host: IsolateHost): Promise<"stopped"> {
    await host.control("stop");
    // An in-process service keeps its state across stop and start; this one's state must leave its isolate first.
    if (this.#info?.exportState === true)
      this.#pending = { state: await host.control("export"), info: this.#importInfo() };
    return "stopped";
  }

  #importInfo(): ImportInfo {
    const version = this.#options.version;
    return version === undefined ? {} : { fromVersion: version };
  }

  handle(event: Event): Promise<Reply> | Reply {
    const host = this.#host;
    if (host === undefined) return { code: 503, message: `isolated service "${this.name}" has no running isolate` };
    return host.call(event);
  }

  #crashed(host: IsolateHost, ctx: ServiceContext, error: IsolateCrashedError): void {
    // A crash before the start finished is that start's failure, reported by start itself.
    if (this.#host !== host || this.#info === undefined) return;
    // Supervision answers what is left, holds new calls and restarts the service from its last saved state.
    ctx.fail(error);
  }
}

/**
 * A service that runs in its own worker thread (`mode: "thread"`) or child
 * process (`mode: "process"`), as an ordinary `Service`: register it, start
 * it, send to it, hot-swap it with new code. The module's default export is
 * the service, without a `name`. Inside, its `ServiceContext` (logger, send,
 * push, signal) goes through the kernel. If the isolate exits, throws, runs
 * out of memory or stops answering the heartbeat, the calls it held are
 * answered 503 at once and the kernel is told (a crash: see supervision).
 *
 * @example
 * await kernel.register(isolated({ name: "echo", module: new URL("./echo.js", import.meta.url) }));
 * await kernel.start("echo");
 * await kernel.send({ to: "echo", from: "main", type: "say", content: "hi" });
 * @throws {InvalidArgumentError} for options of the wrong type (nothing is spawned).
 */
export function isolated(options: IsolatedOptions): Service {
  const checked = checkOptions(options);
  return new IsolatedService(options, checked) as unknown as Service;
}
