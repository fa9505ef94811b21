// Runs a package README's `## Usage` TypeScript example as written, with environment variables
// set for the duration, and returns what it printed with console.log.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { vi } from "vitest";

/**
 * Imports the `## Usage` block of `<packageDir>/README.md` (written next to `testDir`) with
 * `env` set, and returns the arguments of every `console.log` call it made. The environment and
 * console are restored and the temporary script removed afterwards.
 */
export async function runReadmeExample(
  packageDir: string,
  testDir: string,
  env: Record<string, string>,
): Promise<unknown[][]> {
  const readme = readFileSync(join(packageDir, "README.md"), "utf8");
  const block = /## Usage\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error(`no usage example in ${join(packageDir, "README.md")}`);
  const script = join(testDir, `.readme-example-${process.pid}.ts`);
  writeFileSync(script, block);
  const printed: unknown[][] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args));
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    await import(script);
  } finally {
    log.mockRestore();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(script, { force: true });
  }
  return printed;
}
