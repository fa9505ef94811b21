import { describe, expect, it } from "vitest";
import { isThenable } from "./is-thenable.ts";

describe("isThenable", () => {
  it("is true for promises and objects or functions with a callable then", () => {
    expect(isThenable(Promise.resolve(1))).toBe(true);
    // oxlint-disable-next-line unicorn/no-thenable -- the case under test: a hand-made thenable
    expect(isThenable({ then: () => undefined })).toBe(true);
    // oxlint-disable-next-line unicorn/no-thenable -- the case under test: a callable thenable
    const fn = Object.assign(() => undefined, { then: () => undefined });
    expect(isThenable(fn)).toBe(true);
  });

  it("is false for everything else", () => {
    // oxlint-disable-next-line unicorn/no-thenable -- the case under test: a `then` that is not callable
    const notCallable = { then: 1 };
    for (const value of [null, undefined, 0, "then", notCallable, [], () => undefined, Symbol("then")]) {
      expect(isThenable(value)).toBe(false);
    }
  });
});
