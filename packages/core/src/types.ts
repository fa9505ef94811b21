import type { Logger } from "@mk/logger";
import type { StateStore } from "@mk/state";
import type { RestartType, SupervisionOptions } from "./supervision/policy.ts";

/** The answer to an {@link Event}. `code` 0 is success; see `ReplyCode` for the others. */
export type Reply<T = unknown> = { code: number; message: string; data?: T };

/** A message between services, or to the kernel itself when `to` is absent or "". */
export type Event<T = unknown> = {
  /** Target service; absent or "" addresses the kernel. */
  to?: string;
  from: string;
  type: string;
  content?: T;
  /** Reply deadline in ms; the kernel's `defaultTimeoutMs` when absent. */
  timeoutMs?: number;
};

/** An event sent from inside a service: `from` defaults to the service's name. */
export type OutgoingEvent<T = unknown> = Omit<Event<T>, "from"> & { from?: string };

export type ServiceStatus = "created" | "starting" | "running" | "stopping" | "stopped" | "failed";

/** Per-call options of `send` and `push`. */
export interface CallOptions {
  /** Stops waiting for the reply: the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What the bus tells a {@link RemoteRouter} about a call it cannot deliver here. */
export interface RouteOptions {
  /** The call was pushed (the remote side should queue it too) rather than sent. */
  push: boolean;
  /** The call's deadline budget in ms, counted from now (its `timeoutMs`, or the kernel's default). */
  timeoutMs: number;
  /** The caller's signal, when it gave one (the bus already rejects the call when it aborts). */
  signal: AbortSignal | undefined;
}

/**
 * Where calls go when their target does not run in this kernel: the one
 * extension point of the bus, installed by `@mk/cluster` with
 * `kernel.setRemoteRouter`. The bus asks it only after the local lookup
 * failed (not registered, or not running), so local calls never pay for it.
 */
export interface RemoteRouter {
  /**
   * Returns the reply of another node, or `undefined` when no other node runs
   * `event.to` (the kernel then answers 404 as it would alone). The promise
   * should settle by `options.timeoutMs`; the bus answers 408 at the deadline
   * anyway, and a rejection reaches the caller as is (an encoding error, say).
   */
  route(event: Event, options: RouteOptions): Promise<Reply> | undefined;
}

/** What the kernel gives a service while it runs. */
export interface ServiceContext {
  readonly name: string;
  /** The service's own child of the kernel's logger. */
  readonly logger: Logger;
  /** Aborts when the service stops or is swapped out. */
  readonly signal: AbortSignal;
  send(event: OutgoingEvent, options?: CallOptions): Promise<Reply>;
  push(event: OutgoingEvent, options?: CallOptions): Promise<Reply>;
  /**
   * This instance cannot go on: the kernel treats it as a crash (the calls it
   * holds are answered 503 at once, and it is restarted per its `restart`
   * type from its last saved state). A call after the run ended is ignored.
   */
  fail(error: unknown): void;
  /**
   * Saves this service's state now (its `exportState`, through the kernel's
   * store; a no-op without a store). Work done after the last save is lost
   * on a crash: call this after an important change.
   */
  checkpoint(): Promise<void>;
}

/** Passed to `importState`: which version exported the state. */
export interface ImportInfo {
  fromVersion?: string;
}

/**
 * A unit the kernel runs. Every method is optional: a service that cannot
 * export or import state simply skips migration and persistence.
 */
export interface Service {
  /** `[A-Za-z0-9][A-Za-z0-9._-]{0,127}` */
  readonly name: string;
  readonly version?: string;
  /** Names of the services that must be running before this one starts. */
  readonly dependencies?: readonly string[];
  /** What a crash leads to (OTP's meanings): `permanent` and `transient` restart, `temporary` stays failed. @default "permanent" */
  readonly restart?: RestartType;
  /** Overrides the kernel's `startTimeoutMs` for this service. */
  readonly startTimeoutMs?: number;
  /** Overrides the kernel's `stopTimeoutMs` for this service. */
  readonly stopTimeoutMs?: number;
  start?(ctx: ServiceContext): void | Promise<void>;
  stop?(): void | Promise<void>;
  handle?(event: Event, ctx: ServiceContext): Reply | Promise<Reply>;
  /** "Exportable": the state to persist and to hand to the next version. */
  exportState?(): unknown;
  /** "Importable": receives state exported by this or an earlier version. */
  importState?(state: unknown, info: ImportInfo): void | Promise<void>;
}

/** Message counters of one service since it was registered. */
export interface ServiceStats {
  /** Events answered by the handler (any code it chose). */
  handled: number;
  /** Handler threw or rejected (answered 500). */
  failed: number;
  /** No reply before the deadline (answered 408). */
  timedOut: number;
  /** Not delivered: not running (404) or queue full (503). */
  refused: number;
}

export interface ServiceInfo {
  name: string;
  version?: string;
  status: ServiceStatus;
  dependencies: string[];
  stats: ServiceStats;
  /** Times supervision restarted it after a crash since it was registered. */
  restarts: number;
}

export interface KernelOptions {
  /** Where exported state is persisted. No store: no persistence. */
  store?: StateStore;
  /** @default a logger writing text lines to stdout */
  logger?: Logger;
  /** Periodic save of running exportable services; 0 turns it off. @default 2000 */
  checkpointIntervalMs?: number;
  /** Reply deadline of events without `timeoutMs`. @default 5000 */
  defaultTimeoutMs?: number;
  /** Most pushed events not yet answered; past it `push` answers 503 at once. @default 1024 */
  queueCapacity?: number;
  /** Deadline of one service's `start`. @default 30000 */
  startTimeoutMs?: number;
  /** Deadline of one service's `stop`. @default 30000 */
  stopTimeoutMs?: number;
  /** How crashed services are restarted; see {@link SupervisionOptions}. */
  supervision?: SupervisionOptions;
}

/** Options of `stop` and `stopAll`. */
export interface StopOptions {
  /**
   * Stop even when saving the state fails (the failure is logged; the store
   * keeps its previous copy). Without it a failed save rejects the stop and
   * the service keeps running.
   * @default false
   */
  force?: boolean;
}

/** Options of `close`. */
export interface CloseOptions {
  /** Run `stopAll` before closing (and reject with its error if it fails, after closing anyway). @default false */
  stopAll?: boolean;
}
