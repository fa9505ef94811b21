import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors.ts";
import { assertRestartType, supervisionPolicy } from "./policy.ts";
import { DEFAULTS } from "../options.ts";

describe("supervisionPolicy", () => {
  it("fills OTP-like defaults", () => {
    expect(supervisionPolicy(undefined, DEFAULTS.supervision)).toEqual({
      strategy: "one_for_one",
      maxRestarts: 3,
      periodMs: 5000,
      initialMs: 100,
      maxMs: 5000,
      onGiveUp: "fail",
    });
  });

  it.each([
    [null, /expected supervision to be an object, got null/],
    [{ strategy: "one_for_all" }, /supervision.strategy/],
    [{ maxRestarts: -1 }, /supervision.maxRestarts/],
    [{ maxRestarts: 1.5 }, /supervision.maxRestarts/],
    [{ periodMs: "5s" }, /supervision.periodMs/],
    [{ backoff: { initialMs: 10, maxMs: 5 } }, /backoff.maxMs \(5\) to be >= backoff.initialMs \(10\)/],
    [{ backoff: 3 }, /supervision.backoff to be an object/],
    [{ onGiveUp: "crash" }, /supervision.onGiveUp/],
  ])("refuses %j", (options, message) => {
    expect(() => supervisionPolicy(options, DEFAULTS.supervision)).toThrow(InvalidArgumentError);
    expect(() => supervisionPolicy(options, DEFAULTS.supervision)).toThrow(message);
  });

  it("checks a service's restart type", () => {
    expect(() => assertRestartType("a", "temporary")).not.toThrow();
    expect(() => assertRestartType("a", "always")).toThrow(/service "a": expected restart/);
  });
});
