import { expectStoreErrorClasses, STORE_ERROR_CODES } from "@mk/test-servers";
import { describe, expect, it } from "vitest";
import { PostgresStoreError, PostgresUnavailableError, type PostgresStoreErrorCode } from "./errors.ts";

describe("PostgresStoreError catalogue", () => {
  it("pins the full list of codes", () => {
    const codes: Record<PostgresStoreErrorCode, true> = {
      INVALID_ARGUMENT: true,
      INVALID_NAME: true,
      STATE_ENCODE_FAILED: true,
      STATE_TOO_LARGE: true,
      STATE_ENCRYPT_FAILED: true,
      STATE_DECRYPT_FAILED: true,
      STATE_CORRUPT: true,
      STATE_UNSUPPORTED_VERSION: true,
      STATE_CONFLICT: true,
      STATE_FENCED: true,
      STATE_CLOSED: true,
      STATE_IO: true,
    };
    expect(Object.keys(codes)).toEqual(STORE_ERROR_CODES);
  });

  it("every class is a StateError with its code, service and cause", () => {
    expectStoreErrorClasses(PostgresStoreError, PostgresUnavailableError, "PostgresUnavailableError");
  });
});
