// The README's usage example, run as written (with @mk/* resolved to the
// sources) in a child process against a nats-server started here.
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type NatsServer, startNats } from "@mk/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "fixtures");
const script = join(fixtures, `readme-example-${process.pid}.ts`);
let nats: NatsServer;

beforeAll(async () => {
  nats = await startNats();
}, 60_000);

afterAll(async () => {
  rmSync(script, { force: true });
  await nats?.stop();
});

function example(): string {
  const readme = readFileSync(join(here, "..", "README.md"), "utf8");
  const block = /## Usage\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error("no usage example in README.md");
  return block;
}

function run(): Promise<{ stdout: string; status: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: fixtures,
      env: { ...process.env, NATS_URL: nats.url, TSX_TSCONFIG_PATH: join(fixtures, "tsconfig.json") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.on("close", (status) => {
      clearTimeout(killer);
      resolve({ stdout, status });
    });
  });
}

describe("README usage example", () => {
  it("runs and prints what the README says", { timeout: 120_000 }, async () => {
    writeFileSync(script, example());
    const { stdout, status } = await run();
    expect(status, stdout).toBe(0);
    expect(stdout).toContain("{ code: 0, message: 'ok', data: 'hi' }");
    expect(stdout).toContain(`{ code: 404, message: 'service "nobody" is not registered' }`);
    expect(stdout).toContain('[{"name":"echo","node":"node-1","status":"running","role":"replica"}]');
  });
});
