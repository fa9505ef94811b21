import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeThrown } from "./describe-thrown.ts";

const trap = (): never => {
  throw new Error("trap");
};

describe("describeThrown", () => {
  it("gives an Error's message, a string itself and String() of other primitives", () => {
    expect(describeThrown(new Error("disk full"))).toBe("disk full");
    expect(describeThrown(new TypeError(""))).toBe("TypeError");
    expect(describeThrown("plain")).toBe("plain");
    expect(describeThrown(42)).toBe("42");
    expect(describeThrown(10n)).toBe("10");
    expect(describeThrown(undefined)).toBe("undefined");
    expect(describeThrown(null)).toBe("null");
    expect(describeThrown(Symbol("s"))).toBe("Symbol(s)");
    expect(describeThrown(function named() {})).toBe("[function named]");
  });

  it("describes plain, null-prototype and cyclic objects without running their code", () => {
    expect(describeThrown({ code: 7 })).toBe("{ code: 7 }");
    const bare = Object.create(null) as Record<string, unknown>;
    bare["a"] = 1;
    expect(describeThrown(bare)).toBe("[Object: null prototype] { a: 1 }");
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic["self"] = cyclic;
    expect(describeThrown(cyclic)).toContain("[Circular");
    let ran = false;
    const getter = {
      get boom(): number {
        ran = true;
        return trap();
      },
    };
    expect(describeThrown(getter)).toContain("boom");
    expect(ran).toBe(false);
  });

  it("survives a Proxy whose every trap throws", () => {
    const handler: ProxyHandler<object> = {
      get: trap,
      getPrototypeOf: trap,
      ownKeys: trap,
      getOwnPropertyDescriptor: trap,
      has: trap,
    };
    expect(describeThrown(new Proxy({}, handler))).toBe("Proxy {}");
    expect(describeThrown(new Proxy(new Error("inner"), handler))).toMatch(/^Proxy /);
  });

  it("survives an Error whose message, toString and name throw", () => {
    const error = new Error("x");
    Object.defineProperty(error, "message", { get: trap });
    Object.defineProperty(error, "toString", { value: trap });
    Object.defineProperty(error, "name", { get: trap });
    expect(describeThrown(error)).toBe("[Error with an unreadable message]");
    class Custom extends Error {
      override get message(): string {
        return trap();
      }
    }
    const custom = new Custom();
    custom.toString = trap;
    expect(describeThrown(custom)).toBe("[Custom with an unreadable message]");
    const nonString = new Error("y");
    Object.defineProperty(nonString, "message", { value: 12 });
    expect(describeThrown(nonString)).toBe("Error: 12");
  });

  it("never returns more than maxLength characters and never splits a surrogate pair", () => {
    expect(describeThrown("x".repeat(5000))).toHaveLength(1000);
    expect(describeThrown("x".repeat(5000), 20)).toBe(`${"x".repeat(19)}…`);
    const emoji = describeThrown(`${"a".repeat(18)}😀😀`, 20);
    expect(emoji).toBe(`${"a".repeat(18)}…`);
    // A nonsense limit means the default.
    expect(describeThrown("x".repeat(5000), -1)).toHaveLength(1000);
    expect(describeThrown("x".repeat(5000), Number.NaN)).toHaveLength(1000);
  });

  it("never throws and always returns a bounded string, whatever is thrown (property)", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withNullPrototype: true }), (value) => {
        const text = describeThrown(value, 200);
        expect(typeof text).toBe("string");
        expect(text.length).toBeLessThanOrEqual(200);
      }),
      { numRuns: 300 },
    );
  });
});
