// The README's usage example, run as written (with @mk/* resolved to the
// sources) in a real child process, twice: the second run must continue from
// the state the first one saved.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "fixtures");
const stateDir = mkdtempSync(join(tmpdir(), "mk-core-readme-"));
const script = join(fixtures, `readme-example-${process.pid}.ts`);

afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(script, { force: true });
});

function example(): string {
  const readme = readFileSync(join(here, "..", "README.md"), "utf8");
  const block = /## Usage\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error("no usage example in README.md");
  return block;
}

function run(): { stdout: string; status: number | null } {
  const result = spawnSync(process.execPath, ["--import", "tsx", script], {
    cwd: fixtures,
    env: { ...process.env, STATE_DIR: stateDir, TSX_TSCONFIG_PATH: join(fixtures, "tsconfig.json") },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { stdout: result.stdout + result.stderr, status: result.status };
}

describe("README usage example", () => {
  it("runs, and a second run continues from the saved state", () => {
    writeFileSync(script, example());
    const first = run();
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("echo: - -> created");
    expect(first.stdout).toContain("greeter: running -> stopping");
    expect(first.stdout).toContain("echo answered hello #1");
    expect(first.stdout).toContain("data: 'hi #2'");
    const second = run();
    expect(second.status).toBe(0);
    expect(second.stdout).toContain("echo answered hello #3");
    expect(second.stdout).toContain("data: 'hi #4'");
  });
});
