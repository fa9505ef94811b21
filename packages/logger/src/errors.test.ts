import { describe, expect, expectTypeOf, it } from "vitest";
import {
  HttpSinkError,
  InvalidArgumentError,
  InvalidLevelError,
  LoggerError,
  type LoggerErrorCode,
  SinkOpenError,
  SinkWriteError,
} from "./errors.ts";

// The catalogue: every code @mk/logger can produce. A new code, a rename or a removal
// fails here (and in the type check below) and must be a deliberate, documented change.
const CATALOGUE = ["INVALID_ARGUMENT", "INVALID_LEVEL", "SINK_OPEN", "SINK_WRITE", "HTTP_SINK"] as const;

describe("the @mk/logger error catalogue", () => {
  it("lists exactly the LoggerErrorCode union", () => {
    expectTypeOf<(typeof CATALOGUE)[number]>().toEqualTypeOf<LoggerErrorCode>();
  });

  it("gives each class its one code, its name, and the cause it was given", () => {
    const cause = new Error("underlying");
    const made: [LoggerError, LoggerErrorCode, string][] = [
      [
        new InvalidArgumentError("createLogger option service", "a non-empty string", 7),
        "INVALID_ARGUMENT",
        "InvalidArgumentError",
      ],
      [new InvalidLevelError("loud"), "INVALID_LEVEL", "InvalidLevelError"],
      [new SinkOpenError('cannot open "x"', { cause }), "SINK_OPEN", "SinkOpenError"],
      [new SinkWriteError("write to fd 9 failed", { cause }), "SINK_WRITE", "SinkWriteError"],
      [new HttpSinkError("POST failed", 500, { cause }), "HTTP_SINK", "HttpSinkError"],
    ];
    expect(made.map(([, code]) => code).sort()).toEqual([...CATALOGUE].sort());
    for (const [error, code, name] of made) {
      expect(error).toBeInstanceOf(LoggerError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
      expect(CATALOGUE).toContain(error.code);
    }
    expect(made[2]?.[0].cause).toBe(cause);
    expect(new SinkWriteError("no cause").cause).toBeUndefined();
  });

  it("says what was expected and what came", () => {
    expect(new InvalidArgumentError("fileSink path", "a non-empty string", "").message).toBe(
      'invalid fileSink path "": expected a non-empty string',
    );
    expect(new InvalidLevelError(30).message).toBe(
      'invalid log level 30: expected "trace" | "debug" | "info" | "warn" | "error" | "fatal"',
    );
    expect(new InvalidArgumentError("x", "y", Symbol("s")).message).toBe("invalid x a symbol: expected y");
  });

  it("regression: no MK_LOGGER_ prefix and no second code for a bad argument (issue 14)", () => {
    for (const code of CATALOGUE) expect(code).not.toMatch(/^MK_|BAD_INPUT|INVALID_OPTION/);
  });
});
