import { StateError } from "./errors.ts";

/**
 * Service names a store accepts: the kernel's own rule. ASCII only, so no Unicode
 * look-alikes or NFC/NFD twins; no `/`, NUL, leading dot, `.` or `..`, so no name
 * can address a file outside the store's directory or collide with its temp files.
 */
export const STATE_NAME_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * @throws StateError `INVALID_NAME` when `name` is not a string matching {@link STATE_NAME_PATTERN}.
 */
export function assertValidName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !STATE_NAME_PATTERN.test(name)) {
    const shown = typeof name === "string" ? JSON.stringify(name) : `${typeof name} ${safeString(name)}`;
    throw new StateError("INVALID_NAME", `invalid service name ${shown}: expected ${STATE_NAME_PATTERN.source}`, {
      service: typeof name === "string" ? name : undefined,
    });
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    // An object whose toString throws is still an invalid name; say so without its text.
    return "(unprintable)";
  }
}
