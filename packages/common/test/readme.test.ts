// The README's usage example, run as written (its asserts are the checks).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(here, ".readme-"));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("README", () => {
  it("runs the usage example as written", async () => {
    const readme = readFileSync(join(here, "..", "README.md"), "utf8");
    const block = /## Usage\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const file = join(dir, "example.ts");
    writeFileSync(file, block as string);
    // Imported through vitest, so "@mk/common" resolves to the sources.
    await expect(import(file)).resolves.toBeDefined();
  });
});
