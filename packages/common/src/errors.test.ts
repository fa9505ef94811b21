import { describe, expect, it } from "vitest";
import { CommonError, type CommonErrorCode, InvalidArgumentError } from "./errors.ts";

// The catalogue: adding, renaming or removing a code must change this list on purpose.
const CODES: readonly CommonErrorCode[] = ["INVALID_ARGUMENT"];

describe("CommonError catalogue", () => {
  it("pins every code, each with its class", () => {
    const made: CommonError[] = [new InvalidArgumentError("bad")];
    expect(made.map((e) => e.code)).toEqual(CODES);
    for (const error of made) {
      expect(error).toBeInstanceOf(CommonError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(error.constructor.name);
    }
  });

  it("passes a cause on", () => {
    const cause = new Error("root");
    expect(new CommonError("INVALID_ARGUMENT", "x", { cause }).cause).toBe(cause);
  });
});
