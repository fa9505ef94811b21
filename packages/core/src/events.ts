import type { SwapFailedError } from "./errors.ts";
import type { SupervisionEvent } from "./supervision/policy.ts";
import type { ServiceStatus } from "./types.ts";

/** A service moved from one status to another. */
export interface StatusChange {
  name: string;
  version?: string;
  /** `undefined` on registration. */
  from: ServiceStatus | undefined;
  to: ServiceStatus;
}

/** A checkpoint saved a service's state. */
export interface CheckpointEvent {
  name: string;
  version?: string;
}

/** A checkpoint could not save a service's state; it is retried at the next tick. */
export interface CheckpointFailedEvent {
  name: string;
  version?: string;
  error: Error;
}

/** Where a swap failed. */
export type SwapPhase = "validate" | "drain" | "export" | "transfer" | "import" | "stop" | "start";

/** A step of a hot swap, as `kernel.on("swap", ...)` sees it. */
export interface SwapEvent {
  name: string;
  fromVersion?: string;
  toVersion?: string;
  /**
   * `begin`, `held` (deliveries wait), `drained`, `migrated` (state exported,
   * persisted, imported), `stopped` (old version), `started` (new version),
   * `done` (deliveries resume on the new version), or `rolled-back` (the old
   * version serves again; `error` says why).
   */
  step: "begin" | "held" | "drained" | "migrated" | "stopped" | "started" | "done" | "rolled-back";
  error?: SwapFailedError;
}

/** Every event `kernel.on` can observe, by name. */
export interface KernelEventMap {
  status: StatusChange;
  checkpoint: CheckpointEvent;
  "checkpoint-failed": CheckpointFailedEvent;
  swap: SwapEvent;
  /** A running service crashed (`ctx.fail`, or its isolate died). */
  crash: SupervisionEvent;
  /** Supervision restarted a crashed service. */
  restart: SupervisionEvent;
  /** Too many crashes within the period: the service stays `failed`. */
  "gave-up": SupervisionEvent;
}

export type KernelEventName = keyof KernelEventMap;
export type KernelEventListener<K extends KernelEventName> = (event: KernelEventMap[K]) => void;
