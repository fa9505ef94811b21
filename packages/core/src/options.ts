import type { Logger } from "@mk/logger";
import type { StateStore } from "@mk/state";
import { describeThrown } from "@mk/common";
import { InvalidArgumentError } from "./errors.ts";
import { supervisionPolicy, type SupervisionPolicy } from "./supervision/policy.ts";
import type { KernelOptions } from "./types.ts";

export interface KernelDefaults {
  readonly checkpointIntervalMs: number;
  readonly defaultTimeoutMs: number;
  readonly queueCapacity: number;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly supervision: Readonly<SupervisionPolicy>;
}

/** The one place of the kernel's defaults (KernelOptions' and SupervisionOptions' `@default`s say the same). */
export const DEFAULTS: KernelDefaults = {
  checkpointIntervalMs: 2000,
  defaultTimeoutMs: 5000,
  queueCapacity: 1024,
  startTimeoutMs: 30_000,
  stopTimeoutMs: 30_000,
  supervision: {
    strategy: "one_for_one",
    maxRestarts: 3,
    periodMs: 5000,
    initialMs: 100,
    maxMs: 5000,
    onGiveUp: "fail",
  },
};

/** Kernel options checked, with every default filled in (`logger` is made by the kernel). */
export interface ResolvedOptions {
  readonly store: StateStore | undefined;
  readonly logger: Logger | undefined;
  readonly checkpointIntervalMs: number;
  readonly defaultTimeoutMs: number;
  readonly queueCapacity: number;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly supervision: SupervisionPolicy;
}

const DURATIONS = ["checkpointIntervalMs", "defaultTimeoutMs", "startTimeoutMs", "stopTimeoutMs"] as const;

/**
 * Checks kernel options and fills in the defaults.
 * @throws {InvalidArgumentError} when an option has the wrong type or a number is out of range.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  assertOptions(options);
  return {
    store: options.store,
    logger: options.logger,
    checkpointIntervalMs: options.checkpointIntervalMs ?? DEFAULTS.checkpointIntervalMs,
    defaultTimeoutMs: options.defaultTimeoutMs ?? DEFAULTS.defaultTimeoutMs,
    queueCapacity: options.queueCapacity ?? DEFAULTS.queueCapacity,
    startTimeoutMs: options.startTimeoutMs ?? DEFAULTS.startTimeoutMs,
    stopTimeoutMs: options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs,
    supervision: supervisionPolicy(options.supervision, DEFAULTS.supervision),
  };
}

/**
 * Refuses kernel options a typo or a unit mix-up would make dangerous
 * (a negative interval, a timeout of "5s").
 * @throws {InvalidArgumentError} when an option has the wrong type.
 * @throws {InvalidArgumentError} when a number is out of range.
 */
export function assertOptions(options: unknown): asserts options is KernelOptions {
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError(
      `expected kernel options to be an object, got ${options === null ? "null" : typeof options}`,
    );
  const o = options as Record<string, unknown>;
  for (const key of DURATIONS) {
    const value = o[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || Number.isNaN(value))
      throw new InvalidArgumentError(
        `expected ${key} to be a number of milliseconds, got ${describeThrown(value, 80)}`,
      );
    if (value < 0) throw new InvalidArgumentError(`expected ${key} to be >= 0, got ${value}`);
  }
  const capacity = o["queueCapacity"];
  if (capacity !== undefined && (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 1)) {
    throw new InvalidArgumentError(`expected queueCapacity to be an integer >= 1, got ${describeThrown(capacity, 80)}`);
  }
  for (const key of ["store", "logger"] as const) {
    const value = o[key];
    if (value !== undefined && (typeof value !== "object" || value === null))
      throw new InvalidArgumentError(`expected ${key} to be an object, got ${typeof value}`);
  }
}
