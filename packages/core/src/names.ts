import { InvalidNameError, SERVICE_NAME_PATTERN } from "./errors.ts";
import type { Service } from "./types.ts";

/** True when `name` can name a service (and so a state file: no separators, no leading dot). */
export function isValidName(name: unknown): name is string {
  return typeof name === "string" && SERVICE_NAME_PATTERN.test(name);
}

/** @throws {InvalidNameError} when `name` is not a valid service name. */
export function assertValidName(name: unknown): asserts name is string {
  if (!isValidName(name)) throw new InvalidNameError(name);
}

/**
 * Checks what `register` relies on before touching anything: a valid name and
 * dependencies that are valid names. Whether the dependencies exist is checked
 * at start time, so services can be registered in any order.
 * @throws {InvalidNameError} for the service's name, or a dependency's.
 * @throws {TypeError} when `service` is not an object or `dependencies` is not an array.
 * @throws {RangeError} when `startTimeoutMs`/`stopTimeoutMs` is not a number >= 0.
 */
export function assertValidService(service: unknown): asserts service is Service {
  if (typeof service !== "object" || service === null) {
    throw new TypeError(`expected a service object, got ${service === null ? "null" : typeof service}`);
  }
  const { name, dependencies } = service as { name?: unknown; dependencies?: unknown };
  assertValidName(name);
  for (const key of ["startTimeoutMs", "stopTimeoutMs"] as const) {
    const value = (service as Record<string, unknown>)[key];
    if (value !== undefined && (typeof value !== "number" || Number.isNaN(value) || value < 0)) {
      throw new RangeError(
        `service "${name}": expected ${key} to be a number of milliseconds >= 0, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (dependencies === undefined) return;
  if (!Array.isArray(dependencies)) {
    throw new TypeError(`service "${name}": expected dependencies to be an array of names, got ${typeof dependencies}`);
  }
  for (const dependency of dependencies as unknown[]) assertValidName(dependency);
}
