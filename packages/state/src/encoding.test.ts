import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeState, encodeState, inspectParsed } from "./encoding.ts";
import { StateEncodeError, StateError } from "./errors.ts";

// Deeply nested inputs and thousands of generated cases: 6 s under load (a third
// of the default limit), so a generous limit keeps a busy machine from failing them.
describe("encodeState / decodeState", { timeout: 120_000 }, () => {
  it("property: JSON values without -0 or __proto__ round-trip exactly", () => {
    const storable = (v: unknown): boolean =>
      !Object.is(v, -0) &&
      (typeof v !== "object" ||
        v === null ||
        (Array.isArray(v)
          ? v.every(storable)
          : Object.keys(v).every((k) => k !== "__proto__" && storable((v as Record<string, unknown>)[k]))));
    fc.assert(
      fc.property(fc.jsonValue().filter(storable), (value) => {
        expect(decodeState(encodeState(value))).toStrictEqual(value);
        expect(encodeState(value)).toBe(JSON.stringify(value));
      }),
      { numRuns: 300 },
    );
  });

  it("property: anything either round-trips exactly or throws StateEncodeError", () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withSparseArray: true,
          withBoxedValues: true,
          withObjectString: true,
        }),
        (value) => {
          let text: string;
          try {
            text = encodeState(value);
          } catch (error) {
            expect(error).toBeInstanceOf(StateEncodeError);
            return;
          }
          expect(decodeState(text)).toEqual(value);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("names the path with identifiers, indexes and quoted keys", () => {
    expect(() => encodeState({ a: [{ "b c": { d: new Date() } }] }, 256, "svc")).toThrow(
      'state of "svc": state.a[0]["b c"].d: Date is not supported',
    );
  });

  it("turns a throwing getter into STATE_ENCODE_FAILED naming its path", () => {
    const state = {
      a: [
        {
          get b(): number {
            throw new Error("boom");
          },
        },
      ],
    };
    expect(() => encodeState(state)).toThrow(StateEncodeError);
    expect(() => encodeState(state)).toThrow("state.a[0].b: reading it threw: boom");
  });

  it("turns a revoked proxy into STATE_ENCODE_FAILED", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(() => encodeState({ p: proxy })).toThrow(StateEncodeError);
  });

  it("accepts null-prototype objects (they load as plain objects)", () => {
    const dict = Object.assign(Object.create(null) as object, { a: 1 });
    expect(decodeState(encodeState(dict))).toEqual({ a: 1 });
  });

  it("decode refuses bad JSON, __proto__ keys (escaped too) and deep nesting without overflowing", () => {
    for (const text of ["", "{", '{"__proto__":1}', '[{"\\u005f_proto__":1}]', "[".repeat(1e6) + "]".repeat(1e6)]) {
      expect(() => decodeState(text)).toThrow(StateError);
    }
    expect(inspectParsed({ constructor: 1, prototype: 2 }, 10)).toBeUndefined();
  });

  // inspectParsed recurses when maxDepth is small (a speed-up of load); it must name the same
  // problem as the work-stack walk it replaced when a document has several.
  it("load-side inspection names the same problem as the former work-stack walk", () => {
    const reference = (value: unknown, maxDepth: number): string | undefined => {
      const stack: [unknown, number][] = [[value, 0]];
      for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
        const [current, depth] = item;
        if (typeof current !== "object" || current === null) continue;
        if (depth >= maxDepth) return `nesting deeper than ${maxDepth} levels`;
        if (Array.isArray(current)) {
          for (const element of current) stack.push([element, depth + 1]);
        } else {
          for (const key of Object.keys(current)) {
            if (key === "__proto__") return "a __proto__ key";
            stack.push([(current as Record<string, unknown>)[key], depth + 1]);
          }
        }
      }
      return undefined;
    };
    const { node } = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        fc.constantFrom("1", '"s"', "null"),
        fc.array(tie("node"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
        fc
          .array(fc.tuple(fc.constantFrom("a", "b", "__proto__"), tie("node")), { maxLength: 4 })
          .map((entries) => `{${entries.map(([key, text]) => `${JSON.stringify(key)}:${text}`).join(",")}}`),
      ),
    }));
    fc.assert(
      fc.property(node, fc.integer({ min: 1, max: 6 }), (text, maxDepth) => {
        const value: unknown = JSON.parse(text);
        expect(inspectParsed(value, maxDepth)).toBe(reference(value, maxDepth));
      }),
      { numRuns: 500 },
    );
  });
});
