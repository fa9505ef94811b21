// The README's usage example, run as written in a real child process: the
// module and the main script are written inside this package, so
// `@mk/isolate` resolves to the built package by self-reference and
// `@mk/core` through this package's dependencies.
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, "fixtures", `readme-${process.pid}`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function block(file: string): string {
  const readme = readFileSync(join(here, "..", "README.md"), "utf8");
  const match = new RegExp("```js\\n// " + file.replace(".", "\\.") + "\\n([\\s\\S]*?)```").exec(readme);
  if (match?.[1] === undefined) throw new Error(`no ${file} block in README.md`);
  return match[1];
}

function run(script: string): Promise<{ output: string; status: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.on("close", (status) => {
      clearTimeout(killer);
      resolve({ output, status });
    });
  });
}

describe("README usage example", () => {
  it("runs as written", { timeout: 120_000 }, async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "echo.mjs"), block("echo.mjs"));
    writeFileSync(join(dir, "main.mjs"), block("main.mjs"));
    const { output, status } = await run(join(dir, "main.mjs"));
    expect(output).toContain("0 hi 1");
    expect(output).toMatch(/\n2\n/);
    expect(output).toMatch(/\n503\n/);
    expect(output).toContain("echo restarted (1)");
    expect(
      output
        .trim()
        .split("\n")
        .filter((l) => l === "2"),
    ).toHaveLength(2);
    expect(output).toContain("[echo] echo started at 0");
    expect(output).toContain("[echo] echo started at 1");
    expect(status).toBe(0);
  });
});
