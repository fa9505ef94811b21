import { describeThrown, SERVICE_NAME_PATTERN, serviceNameProblem } from "@mk/common";

/** Stable codes of every error the kernel throws; match on these, not on messages. */
export type KernelErrorCode =
  | "INVALID_NAME"
  | "SERVICE_NOT_FOUND"
  | "ALREADY_REGISTERED"
  | "DEPENDENCY_CYCLE"
  | "MISSING_DEPENDENCY"
  | "INVALID_STATE"
  | "START_FAILED"
  | "STOP_FAILED"
  | "START_TIMEOUT"
  | "STOP_TIMEOUT"
  | "START_ALL_FAILED"
  | "STOP_ALL_FAILED"
  | "STATE_LOAD_FAILED"
  | "STATE_SAVE_FAILED"
  | "SWAP_FAILED"
  | "CHECKPOINT_FAILED"
  | "KERNEL_CLOSED"
  | "INVALID_ARGUMENT"
  | "INVALID_EVENT";

/** Base of every error thrown by `@mk/core`. */
export class KernelError extends Error {
  override name = "KernelError";
  readonly code: KernelErrorCode;
  /** The service the error is about, when there is one. */
  readonly service: string | undefined;

  constructor(code: KernelErrorCode, message: string, options?: { service?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.service = options?.service;
  }
}

export class InvalidNameError extends KernelError {
  override name = "InvalidNameError";
  constructor(name: unknown) {
    super(
      "INVALID_NAME",
      serviceNameProblem(name) ??
        `invalid service name ${JSON.stringify(name)}: expected ${SERVICE_NAME_PATTERN.source}`,
      { service: typeof name === "string" ? name : describeThrown(name, 80) },
    );
  }
}

/**
 * A call's argument has the wrong type or is out of range (a service that is
 * not an object, a timeout of "5s", a listener that is not a function). A bug
 * in the caller, reported before anything changes.
 */
export class InvalidArgumentError extends KernelError {
  override name = "InvalidArgumentError";
  constructor(message: string, service?: string) {
    super("INVALID_ARGUMENT", message, service === undefined ? undefined : { service });
  }
}

export class ServiceNotFoundError extends KernelError {
  override name = "ServiceNotFoundError";
  constructor(service: string) {
    super("SERVICE_NOT_FOUND", `service "${service}" is not registered`, { service });
  }
}

export class AlreadyRegisteredError extends KernelError {
  override name = "AlreadyRegisteredError";
  constructor(service: string) {
    super("ALREADY_REGISTERED", `service "${service}" is already registered`, { service });
  }
}

/** `cycle` lists the path with its first name repeated at the end: `["a", "b", "a"]`, where each depends on the next. */
export class DependencyCycleError extends KernelError {
  override name = "DependencyCycleError";
  readonly cycle: readonly string[];
  constructor(cycle: readonly string[]) {
    super("DEPENDENCY_CYCLE", `dependency cycle: ${cycle.join(" -> ")}`, { service: cycle[0] ?? "" });
    this.cycle = cycle;
  }
}

export class MissingDependencyError extends KernelError {
  override name = "MissingDependencyError";
  readonly dependency: string;
  constructor(service: string, dependency: string) {
    super("MISSING_DEPENDENCY", `service "${service}" depends on "${dependency}", which is not registered`, {
      service,
    });
    this.dependency = dependency;
  }
}

/** An operation that the service's current status does not allow (e.g. unregistering a running service). */
export class InvalidStateError extends KernelError {
  override name = "InvalidStateError";
  constructor(service: string, message: string) {
    super("INVALID_STATE", `service "${service}": ${message}`, { service });
  }
}

export class StartFailedError extends KernelError {
  override name = "StartFailedError";
  constructor(service: string, cause: unknown) {
    super("START_FAILED", `service "${service}" failed to start: ${describeThrown(cause)}`, { service, cause });
  }
}

export class StopFailedError extends KernelError {
  override name = "StopFailedError";
  constructor(service: string, cause: unknown) {
    super("STOP_FAILED", `service "${service}" failed to stop: ${describeThrown(cause)}`, { service, cause });
  }
}

export class LifecycleTimeoutError extends KernelError {
  override name = "LifecycleTimeoutError";
  readonly timeoutMs: number;
  constructor(phase: "start" | "stop", service: string, timeoutMs: number) {
    super(
      phase === "start" ? "START_TIMEOUT" : "STOP_TIMEOUT",
      `service "${service}" did not ${phase} within ${timeoutMs} ms`,
      {
        service,
      },
    );
    this.timeoutMs = timeoutMs;
  }
}

/** One failure inside a `startAll`/`stopAll`. */
export interface ServiceFailure {
  service: string;
  error: Error;
}

/**
 * `startAll`/`stopAll` did all they could and some services failed.
 * `failures` names each; `skipped` lists services a start failure held back.
 */
export class LifecycleAggregateError extends KernelError {
  override name = "LifecycleAggregateError";
  readonly failures: readonly ServiceFailure[];
  readonly skipped: readonly string[];
  constructor(phase: "startAll" | "stopAll", failures: readonly ServiceFailure[], skipped: readonly string[] = []) {
    const lines = failures.map((f) => `${f.service}: ${f.error.message}`);
    const held = skipped.length > 0 ? `; not started because a dependency failed: ${skipped.join(", ")}` : "";
    super(
      phase === "startAll" ? "START_ALL_FAILED" : "STOP_ALL_FAILED",
      `${phase} failed for ${failures.map((f) => f.service).join(", ")} (${lines.join("; ")})${held}`,
      { service: failures[0]?.service ?? "", cause: failures[0]?.error },
    );
    this.failures = failures;
    this.skipped = skipped;
  }
}

export class StateLoadFailedError extends KernelError {
  override name = "StateLoadFailedError";
  constructor(service: string, cause: unknown) {
    super("STATE_LOAD_FAILED", `could not load the saved state of service "${service}": ${describeThrown(cause)}`, {
      service,
      cause,
    });
  }
}

export class StateSaveFailedError extends KernelError {
  override name = "StateSaveFailedError";
  constructor(service: string, cause: unknown) {
    super("STATE_SAVE_FAILED", `could not save the state of service "${service}": ${describeThrown(cause)}`, {
      service,
      cause,
    });
  }
}

/** The swap failed at `phase` and was rolled back: the old version serves again with its state. */
export class SwapFailedError extends KernelError {
  override name = "SwapFailedError";
  readonly phase: string;
  constructor(service: string, phase: string, cause: unknown) {
    super(
      "SWAP_FAILED",
      phase === "validate"
        ? `hot swap of service "${service}" refused, nothing was changed: ${describeThrown(cause)}`
        : `hot swap of service "${service}" failed at ${phase} and was rolled back: ${describeThrown(cause)}`,
      {
        service,
        cause,
      },
    );
    this.phase = phase;
  }
}

/** `checkpoint()` could not save some services; `failures` names each with its cause (a `StateSaveFailedError`). */
export class CheckpointFailedError extends KernelError {
  override name = "CheckpointFailedError";
  readonly failures: readonly ServiceFailure[];
  constructor(failures: readonly ServiceFailure[]) {
    super(
      "CHECKPOINT_FAILED",
      `checkpoint failed for ${failures.map((f) => f.service).join(", ")} (${failures.map((f) => `${f.service}: ${f.error.message}`).join("; ")})`,
      { service: failures[0]?.service ?? "", cause: failures[0]?.error },
    );
    this.failures = failures;
  }
}

export class KernelClosedError extends KernelError {
  override name = "KernelClosedError";
  constructor(operation: string, service = "") {
    super("KERNEL_CLOSED", `kernel is closed: cannot ${operation}${service ? ` "${service}"` : ""}`, { service });
  }
}

/** `send`/`push` got something that is not an event (a programming error, so the call rejects instead of answering). */
export class InvalidEventError extends KernelError {
  override name = "InvalidEventError";
  /** @param event the event's target (a string), or the event itself (its `to` is read, guarded). */
  constructor(event: unknown, detail: string) {
    const to = typeof event === "string" ? event : targetOf(event);
    super("INVALID_EVENT", `invalid event${to ? ` for service "${to}"` : ""}: ${detail}`, { service: to });
  }
}

function targetOf(event: unknown): string {
  if (typeof event !== "object" || event === null) return "";
  try {
    const to = (event as { to?: unknown }).to;
    return typeof to === "string" ? to : "";
  } catch {
    // A getter or Proxy trap threw: the target is unknown, the detail says why.
    return "";
  }
}
