// The README's usage example, run as written (with @mk/* resolved to the
// sources) in a real child process, twice: the second run must continue from
// the state the first one saved.
import { spawn } from "node:child_process";
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

// Each run starts node with tsx, which takes seconds on a busy machine: the
// runs are asynchronous (a synchronous spawn would block the test worker) and
// the limits generous, so only a hung example fails the test.
function run(): Promise<{ stdout: string; status: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: fixtures,
      env: { ...process.env, STATE_DIR: stateDir, TSX_TSCONFIG_PATH: join(fixtures, "tsconfig.json") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.on("close", (status) => {
      clearTimeout(killer);
      resolve({ stdout: stdout + stderr, status });
    });
  });
}

describe("README usage example", () => {
  it("runs, and a second run continues from the saved state", { timeout: 150_000 }, async () => {
    writeFileSync(script, example());
    const first = await run();
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("echo: - -> created");
    expect(first.stdout).toContain("greeter: running -> stopping");
    expect(first.stdout).toContain("echo answered hello #1");
    expect(first.stdout).toContain("data: 'hi #2'");
    const second = await run();
    expect(second.status).toBe(0);
    expect(second.stdout).toContain("echo answered hello #3");
    expect(second.stdout).toContain("data: 'hi #4'");
  });
});
