import { describeThrown, isValidServiceName } from "@mk/common";
import { InvalidArgumentError, InvalidNameError } from "./errors.ts";
import { assertRestartType } from "./supervision/policy.ts";
import type { RemoteRouter, Service, StopOptions } from "./types.ts";

/** True when `name` can name a service (and so a state file: no separators, no leading dot). */
export function isValidName(name: unknown): name is string {
  return isValidServiceName(name);
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
 * @throws {InvalidArgumentError} when `service` is not an object, a method is not a function,
 *   `version` is not a string or `dependencies` is not an array.
 * @throws {InvalidArgumentError} when `startTimeoutMs`/`stopTimeoutMs` is not a number >= 0.
 */
/** The optional methods of a service: each must be a function when present. */
const SERVICE_METHODS = ["start", "stop", "handle", "exportState", "importState"] as const;

export function assertValidService(service: unknown): asserts service is Service {
  if (typeof service !== "object" || service === null) {
    throw new InvalidArgumentError(`expected a service object, got ${service === null ? "null" : typeof service}`);
  }
  const { name, dependencies } = service as { name?: unknown; dependencies?: unknown };
  assertValidName(name);
  for (const key of ["startTimeoutMs", "stopTimeoutMs"] as const) {
    const value = (service as Record<string, unknown>)[key];
    if (value !== undefined && (typeof value !== "number" || Number.isNaN(value) || value < 0)) {
      throw new InvalidArgumentError(
        `service "${name}": expected ${key} to be a number of milliseconds >= 0, got ${describeThrown(value, 80)}`,
      );
    }
  }
  for (const key of SERVICE_METHODS) {
    const value = (service as Record<string, unknown>)[key];
    if (value !== undefined && typeof value !== "function") {
      throw new InvalidArgumentError(`service "${name}": expected ${key} to be a function, got ${typeof value}`, name);
    }
  }
  assertRestartType(name as string, (service as { restart?: unknown }).restart);
  const version = (service as { version?: unknown }).version;
  if (version !== undefined && typeof version !== "string") {
    throw new InvalidArgumentError(`service "${name}": expected version to be a string, got ${typeof version}`, name);
  }
  if (dependencies === undefined) return;
  if (!Array.isArray(dependencies)) {
    throw new InvalidArgumentError(
      `service "${name}": expected dependencies to be an array of names, got ${typeof dependencies}`,
    );
  }
  for (const dependency of dependencies as unknown[]) assertValidName(dependency);
}

/** @throws {InvalidArgumentError} for options that are not an object with an optional boolean `force`. */
export function assertStopOptions(options: unknown): asserts options is StopOptions {
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError(
      `expected stop options to be an object, got ${options === null ? "null" : typeof options}`,
    );
  const force = (options as { force?: unknown }).force;
  if (force !== undefined && typeof force !== "boolean")
    throw new InvalidArgumentError(`expected stop option "force" to be a boolean, got ${typeof force}`);
}

/**
 * `close`'s options: whether to stop every service first.
 * @throws {InvalidArgumentError} for options that are not an object, or whose `stopAll` cannot be read.
 */
export function readStopAll(options: unknown): boolean {
  if (typeof options !== "object" || options === null)
    throw new InvalidArgumentError(
      `expected close options to be an object, got ${options === null ? "null" : typeof options}`,
    );
  try {
    return (options as { stopAll?: unknown }).stopAll === true;
  } catch (error) {
    throw new InvalidArgumentError(`could not read close options: ${describeThrown(error, 200)}`);
  }
}

/** @throws {InvalidArgumentError} when `router` is neither undefined nor an object with a `route` method. */
export function assertRemoteRouter(router: unknown): asserts router is RemoteRouter | undefined {
  if (router === undefined) return;
  if (typeof router !== "object" || router === null || typeof (router as RemoteRouter).route !== "function") {
    throw new InvalidArgumentError(
      `expected a remote router with a route() method, or undefined, got ${router === null ? "null" : typeof router}`,
    );
  }
}
