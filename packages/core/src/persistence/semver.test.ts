import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareVersions } from "./semver.ts";

describe("compareVersions (SemVer 2.0.0 precedence)", () => {
  it("orders the example chain of semver.org section 11", () => {
    const chain = [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "2.0.0",
      "2.1.0",
      "2.1.1",
      "10.0.0",
    ];
    for (let i = 0; i + 1 < chain.length; i++) {
      expect(compareVersions(chain[i] as string, chain[i + 1] as string)).toBe(-1);
      expect(compareVersions(chain[i + 1] as string, chain[i] as string)).toBe(1);
    }
  });

  it("ignores build metadata and accepts a leading v", () => {
    expect(compareVersions("1.0.0+build.1", "1.0.0+build.2")).toBe(0);
    expect(compareVersions("v1.2.3", "1.2.3")).toBe(0);
  });

  it("is undefined when either side is not a semantic version", () => {
    for (const bad of ["1", "1.0", "banana", "01.0.0", "1.0.0-", "", "1.0.0-01"]) {
      expect(compareVersions(bad, "1.0.0")).toBeUndefined();
      expect(compareVersions("1.0.0", bad)).toBeUndefined();
    }
  });

  it("is antisymmetric and reflexive on any versions (property)", () => {
    const version = fc
      .tuple(fc.nat(20), fc.nat(20), fc.nat(20), fc.option(fc.constantFrom("alpha", "beta.1", "rc.2", "1")))
      .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre === null ? "" : `-${pre}`}`);
    fc.assert(
      fc.property(version, version, (a, b) => {
        expect(compareVersions(a, a)).toBe(0);
        expect(compareVersions(a, b)).toBe(-(compareVersions(b, a) as number) || 0);
      }),
      { numRuns: 300 },
    );
  });
});
