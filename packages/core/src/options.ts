import type { KernelOptions } from "./types.ts";
import { InvalidArgumentError } from "./errors.ts";

const DURATIONS = ["checkpointIntervalMs", "defaultTimeoutMs", "startTimeoutMs", "stopTimeoutMs"] as const;

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
      throw new InvalidArgumentError(`expected ${key} to be a number of milliseconds, got ${JSON.stringify(value)}`);
    if (value < 0) throw new InvalidArgumentError(`expected ${key} to be >= 0, got ${value}`);
  }
  const capacity = o["queueCapacity"];
  if (capacity !== undefined && (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 1)) {
    throw new InvalidArgumentError(`expected queueCapacity to be an integer >= 1, got ${JSON.stringify(capacity)}`);
  }
  for (const key of ["store", "logger"] as const) {
    const value = o[key];
    if (value !== undefined && (typeof value !== "object" || value === null))
      throw new InvalidArgumentError(`expected ${key} to be an object, got ${typeof value}`);
  }
}
