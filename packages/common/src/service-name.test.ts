import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isValidServiceName, SERVICE_NAME_PATTERN, serviceNameProblem, showName } from "./service-name.ts";

describe("the service-name rule", () => {
  it("accepts ASCII names that cannot escape a directory", () => {
    for (const name of ["a", "echo", "Echo-2", "a.b_c-d", "0", "a".repeat(128)]) {
      expect(isValidServiceName(name)).toBe(true);
      expect(serviceNameProblem(name)).toBeUndefined();
    }
  });

  it("refuses separators, dots first, NUL, Unicode, empty and too long names, and non-strings", () => {
    for (const name of ["", ".", "..", ".hidden", "a/b", "a\\b", "a\0", "é", "a b", "a".repeat(129), 1, null, {}]) {
      expect(isValidServiceName(name)).toBe(false);
      expect(serviceNameProblem(name)).toMatch(/^invalid service name .*: expected \^/);
    }
  });

  it("shows what came: a quoted string, or the type and a safe description", () => {
    expect(serviceNameProblem("a/b")).toBe(`invalid service name "a/b": expected ${SERVICE_NAME_PATTERN.source}`);
    expect(showName(12)).toBe("(number) 12");
    expect(showName(null)).toBe("(null) null");
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
      },
    );
    expect(showName(hostile)).toBe("(object) Proxy {}");
    expect(showName("x".repeat(1000)).length).toBeLessThan(210);
  });

  it("agrees with SERVICE_NAME_PATTERN on any string (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 140 }), (name) => {
        expect(isValidServiceName(name)).toBe(SERVICE_NAME_PATTERN.test(name));
      }),
      { numRuns: 500 },
    );
  });
});
