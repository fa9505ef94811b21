import { describe, expect, it } from "vitest";
import { TestServerError, type TestServerErrorCode } from "./errors.ts";

describe("TestServerError catalogue", () => {
  it("pins every code", () => {
    const codes: Record<TestServerErrorCode, true> = {
      SERVER_NOT_INSTALLED: true,
      SERVER_START_FAILED: true,
      SERVER_STOPPED: true,
      INVALID_ARGUMENT: true,
    };
    expect(Object.keys(codes).sort()).toEqual([
      "INVALID_ARGUMENT",
      "SERVER_NOT_INSTALLED",
      "SERVER_START_FAILED",
      "SERVER_STOPPED",
    ]);
    const cause = new Error("spawn ENOENT");
    const error = new TestServerError("SERVER_START_FAILED", "postgres", "did not start", { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: "TestServerError", code: "SERVER_START_FAILED", server: "postgres", cause });
  });
});
