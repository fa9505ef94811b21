import { StateError } from "@mk/state";
import { describe, expect, it } from "vitest";
import { NatsStoreError, NatsUnavailableError, type NatsStoreErrorCode } from "./errors.ts";

describe("NatsStoreError catalogue", () => {
  it("pins the full list of codes", () => {
    const codes: Record<NatsStoreErrorCode, true> = {
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
    expect(Object.keys(codes)).toEqual([
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
    ]);
  });

  it("every class is a StateError with its code, service and cause", () => {
    const cause = new Error("ECONNREFUSED");
    const unavailable = new NatsUnavailableError("down", { service: "echo", cause });
    expect(unavailable).toBeInstanceOf(NatsStoreError);
    expect(unavailable).toBeInstanceOf(StateError);
    expect(unavailable).toMatchObject({ name: "NatsUnavailableError", code: "STATE_IO", service: "echo", cause });
    expect(new NatsStoreError("INVALID_ARGUMENT", "bad")).toMatchObject({
      code: "INVALID_ARGUMENT",
      service: undefined,
    });
  });
});
