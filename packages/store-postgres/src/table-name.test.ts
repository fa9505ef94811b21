import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quoteTableName } from "./table-name.ts";

describe("quoteTableName", () => {
  it("quotes plain and schema-qualified identifiers", () => {
    expect(quoteTableName("mk_state")).toBe('"mk_state"');
    expect(quoteTableName("app.mk_state")).toBe('"app"."mk_state"');
    expect(quoteTableName("_x9")).toBe('"_x9"');
    expect(quoteTableName("a".repeat(63))).toBe(`"${"a".repeat(63)}"`);
  });

  it("refuses anything that is not one or two lower-case identifiers", () => {
    for (const bad of ["", "Mk", "9x", "a-b", 'a"b', "a b", "a;b", "a.b.c", ".a", "a.", "a".repeat(64), "é", null, 5]) {
      expect(() => quoteTableName(bad), String(bad)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });

  it("property: whatever string comes in, the result is refused or only identifiers in quotes", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        let quoted: string;
        try {
          quoted = quoteTableName(text);
        } catch {
          return;
        }
        expect(quoted).toMatch(/^"[a-z_][a-z0-9_]*"(\."[a-z_][a-z0-9_]*")?$/);
      }),
      { numRuns: 2_000 },
    );
  });
});
