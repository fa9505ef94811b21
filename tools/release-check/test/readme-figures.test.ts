import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// What a user reads first: the root README's claims must be the figures of its own
// Benchmarks table, not older ones.
const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../../README.md"), "utf8");
const start = readme.indexOf("## Benchmarks");
const end = readme.indexOf("\n## ", start + 1);
const table = readme.slice(start, end);
const intro = readme.slice(0, start);

describe("the root README's benchmark figures", () => {
  it("has a Benchmarks table", () => {
    expect(start).toBeGreaterThan(0);
    expect(table).toMatch(/\| scenario/);
  });

  it("regression: every ratio quoted before the table is one of the table's (the intro said 3.7–8.9×, 13–28×, 4–9×; issue 13)", () => {
    const quoted = intro.match(/\d+(?:\.\d+)?(?:–\d+(?:\.\d+)?)?×/g) ?? [];
    expect(quoted.length).toBeGreaterThan(0);
    for (const ratio of quoted) expect(table, `the intro quotes ${ratio}`).toContain(ratio);
  });

  it("does not call ranges the medians of one run", () => {
    expect(table).not.toMatch(/from one run/);
  });
});
