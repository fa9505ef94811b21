// The README's usage example, run as written (with "./state" pointed at a temp folder and
// @mk/* resolved to the sources), so the documented calls and their results cannot drift.
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { tempDir } from "./helpers.ts";

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, `readme-example-${process.pid}.ts`);

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(script, { force: true });
});

async function example(): Promise<string> {
  const readme = await readFile(join(here, "..", "README.md"), "utf8");
  const block = /## Usage\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error("no usage example in README.md");
  return block;
}

describe("README", () => {
  it("the usage example runs, refuses the Date with STATE_ENCODE_FAILED, and leaves no state behind", async () => {
    const dir = join(await tempDir(), "state");
    const code = (await example()).replaceAll('"./state"', JSON.stringify(dir));
    await writeFile(script, code);
    const errors: unknown[][] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args));
    await import(pathToFileURL(script).href);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[0]).toBe("STATE_ENCODE_FAILED");
    expect(String(errors[0]?.[1])).toMatch(/^state of "echo": state\.since: Date is not supported/);
    // Deleted, and the lock released by close(): nothing is left in the directory.
    expect(await readdir(dir)).toEqual([]);
  });
});
