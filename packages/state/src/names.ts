import { SERVICE_NAME_PATTERN, serviceNameProblem } from "@mk/common";
import { StateError } from "./errors.ts";

/**
 * Service names a store accepts: mk's one service-name rule (`@mk/common`). ASCII only,
 * so no Unicode look-alikes or NFC/NFD twins; no `/`, NUL, leading dot, `.` or `..`, so
 * no name can address a file outside the store's directory or collide with its temp files.
 */
export const STATE_NAME_PATTERN: RegExp = SERVICE_NAME_PATTERN;

/**
 * @throws StateError `INVALID_NAME` when `name` is not a string matching {@link STATE_NAME_PATTERN}.
 */
export function assertValidName(name: unknown): asserts name is string {
  const problem = serviceNameProblem(name);
  if (problem !== undefined) {
    throw new StateError("INVALID_NAME", problem, { service: typeof name === "string" ? name : undefined });
  }
}
