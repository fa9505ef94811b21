import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_VERSION_LENGTH, olderThan, wireVersion } from "./versions.ts";

const semver = fc
  .tuple(
    fc.nat(12),
    fc.nat(12),
    fc.nat(12),
    fc.option(fc.constantFrom("alpha", "alpha.1", "beta", "beta.2", "beta.11", "rc.1", "0", "1")),
    fc.option(fc.constantFrom("build.1", "sha.abc", "001")),
  )
  .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre === null ? "" : `-${pre}`}${build === null ? "" : `+${build}`}`);

describe("olderThan: may this code take over state saved by that version?", () => {
  it("is true only when the code's version precedes the state's (SemVer 2.0.0)", () => {
    expect(olderThan("1.0.0", "2.0.0")).toBe(true);
    expect(olderThan("1.9.9", "1.10.0")).toBe(true);
    expect(olderThan("2.0.0", "1.0.0")).toBe(false);
    expect(olderThan("2.0.0", "2.0.0")).toBe(false);
  });

  it("orders pre-releases before their release, and ignores build metadata and a leading v", () => {
    expect(olderThan("2.0.0-rc.1", "2.0.0")).toBe(true);
    expect(olderThan("2.0.0-alpha", "2.0.0-alpha.1")).toBe(true);
    expect(olderThan("2.0.0-beta.2", "2.0.0-beta.11")).toBe(true);
    expect(olderThan("2.0.0", "2.0.0-rc.1")).toBe(false);
    expect(olderThan("2.0.0+build.1", "2.0.0+build.2")).toBe(false);
    expect(olderThan("v1.0.0", "1.0.0")).toBe(false);
    expect(olderThan("v1.0.0", "1.0.1")).toBe(true);
  });

  it("never refuses what cannot be ordered: no version, or one that is not a semantic version", () => {
    for (const unknown of [undefined, "", "1", "1.0", "banana", "01.0.0", "1.0.0-", "latest", " 1.0.0", "1.0.0.0"]) {
      expect(olderThan(unknown, "2.0.0")).toBe(false);
      expect(olderThan("1.0.0", unknown)).toBe(false);
    }
  });

  it("is irreflexive and asymmetric, and a refusal is never undone by build metadata (property)", () => {
    fc.assert(
      fc.property(semver, semver, (a, b) => {
        expect(olderThan(a, a)).toBe(false);
        expect(olderThan(a, b) && olderThan(b, a)).toBe(false);
        expect(olderThan(`${a.split("+")[0] as string}+other`, b)).toBe(olderThan(a, b));
      }),
      { numRuns: 500 },
    );
  });

  it("never throws, whatever the strings (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(typeof olderThan(a, b)).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });
});

describe("wireVersion: a version from a lease value or a heartbeat", () => {
  it("keeps a short string and drops anything else", () => {
    expect(wireVersion("2.0.0")).toBe("2.0.0");
    expect(wireVersion("x".repeat(MAX_VERSION_LENGTH))).toHaveLength(MAX_VERSION_LENGTH);
    for (const bad of [undefined, null, 2, {}, [], "", "x".repeat(MAX_VERSION_LENGTH + 1)]) {
      expect(wireVersion(bad)).toBeUndefined();
    }
  });
});
