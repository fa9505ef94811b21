// What the store packages' error catalogue tests share: the codes every state store throws, and
// the shape of their error classes.
import { StateError } from "@mk/state";
import { expect } from "vitest";

/** Every code `@mk/store-postgres` and `@mk/store-nats` throw, in catalogue order (all `@mk/state` codes). */
export const STORE_ERROR_CODES: readonly string[] = [
  "INVALID_ARGUMENT",
  "INVALID_NAME",
  "STATE_ENCODE_FAILED",
  "STATE_TOO_LARGE",
  "STATE_ENCRYPT_FAILED",
  "STATE_DECRYPT_FAILED",
  "STATE_CORRUPT",
  "STATE_UNSUPPORTED_VERSION",
  "STATE_CONFLICT",
  "STATE_FENCED",
  "STATE_CLOSED",
  "STATE_IO",
];

type StoreErrorClass = new (
  code: "INVALID_ARGUMENT",
  message: string,
  options?: { service?: string; cause?: unknown },
) => StateError;
type UnavailableClass = new (message: string, options: { service?: string; cause?: unknown }) => StateError;

/**
 * Checks a store's base error class and its unavailable class (`<Name>UnavailableError`):
 * both StateErrors, the unavailable one a `STATE_IO` carrying its service and cause.
 */
export function expectStoreErrorClasses(base: StoreErrorClass, unavailable: UnavailableClass, name: string): void {
  const cause = new Error("ECONNREFUSED");
  const down = new unavailable("down", { service: "echo", cause });
  expect(down).toBeInstanceOf(base);
  expect(down).toBeInstanceOf(StateError);
  expect(down).toMatchObject({ name, code: "STATE_IO", service: "echo", cause });
  expect(new base("INVALID_ARGUMENT", "bad")).toMatchObject({
    code: "INVALID_ARGUMENT",
    service: undefined,
  });
}
