// The README's usage example, run as written against real servers.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, `.readme-example-${process.pid}.ts`);

afterAll(() => rmSync(script, { force: true }));

describe("README usage example", () => {
  it("runs against real servers and prints what it says", async () => {
    const readme = readFileSync(join(here, "..", "README.md"), "utf8");
    const block = /## Usage\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    if (block === undefined) throw new Error("no usage example in README.md");
    writeFileSync(script, block);
    const printed: unknown[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args));
    try {
      await import(script);
    } finally {
      log.mockRestore();
    }
    expect(printed[0]).toEqual([[{ v: 1 }]]);
    expect(String((printed[1] as unknown[])[0])).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
  });
});
