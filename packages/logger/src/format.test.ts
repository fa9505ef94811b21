import { format } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countSpecifiers, formatMessage, isPlainObject } from "./format.ts";

const cases: [string, ...unknown[]][] = [
  ["plain"],
  ["a%%b"],
  ["a%%b", 1],
  ["handled request %d", 42],
  ["%s and %s", "x", "y"],
  ["%s", 3.5],
  ["%d", -0],
  ["%s", -0],
  ["%d", 1.5],
  ["%i", 1.5],
  ["%i", 1e21],
  ["%f", 2.25],
  ["%f", "1.5x"],
  ["%d", "12"],
  ["%d", 10n],
  ["%s", 10n],
  ["%i", Symbol("q")],
  ["%s", Symbol("q")],
  ["%s", null],
  ["%s", undefined],
  ["%d", null],
  ["%s", { a: 1 }],
  ["%s", [1, 2]],
  ["%s", new Error("boom")],
  ["%o", { a: [1, { b: 2 }] }],
  ["%O", { a: 1 }],
  ["%j", { a: 1 }],
  [
    "%j",
    (() => {
      const o: Record<string, unknown> = {};
      o["self"] = o;
      return o;
    })(),
  ],
  ["%c%s", "color: red", "x"],
  ["%s %s", 1],
  ["%s", "a", "b"],
  ["%s", "a", { b: 1 }],
  ["%x %s", 1],
  ["%", 1],
  ["a%", 1],
  ["%s %% %s", "a"],
  ["%%s", "a"],
  ["%%%s", "a"],
  ["100%", "x"],
  ["%s", "multi\nline"],
  ["%d %i %f %s %%", 1, 2, 3, "four"],
];

describe("formatMessage (printf)", () => {
  it.each(cases)("matches util.format for %j", (msg, ...args) => {
    expect(formatMessage(msg, args)).toBe(format(msg, ...args));
  });

  // 2,000 synchronous cases: slow on a busy machine, so a generous limit (the check is unchanged).
  it("matches util.format for any message and string/number arguments (property)", { timeout: 120_000 }, () => {
    const piece = fc.oneof(
      fc.constantFrom("%s", "%d", "%i", "%f", "%j", "%o", "%O", "%c", "%%", "%", "%x", "%%s", " "),
      fc.string({ maxLength: 6 }),
    );
    const message = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(""));
    const arg = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.double(),
      fc.constant(-0),
      fc.bigInt(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
    );
    fc.assert(
      fc.property(message, fc.array(arg, { maxLength: 5 }), (msg, args) => {
        // util.format itself throws for some inputs (%i of a null-prototype object): so must we.
        expect(outcome(() => formatMessage(msg, args))).toEqual(outcome(() => format(msg, ...args)));
      }),
      { numRuns: 2000 },
    );
  });
});

function outcome(run: () => string): { value: string } | { threw: string } {
  try {
    return { value: run() };
  } catch (error) {
    return { threw: (error as Error).name };
  }
}

describe("countSpecifiers", () => {
  it.each([
    ["plain", 0],
    ["%s", 1],
    ["%d %i %f %j %o %O %c", 7],
    ["%%", 0],
    ["%%s", 0],
    ["%%%s", 1],
    ["%x %s", 1],
    ["trailing %", 0],
  ] as const)("%j has %i", (msg, n) => {
    expect(countSpecifiers(msg)).toBe(n);
  });
});

describe("isPlainObject", () => {
  it("accepts literals and null-prototype objects only", () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    for (const v of [[], new Date(), new Error("x"), new Map(), null, "s", 1, () => 0, new (class X {})()]) {
      expect(isPlainObject(v)).toBe(false);
    }
  });
});
