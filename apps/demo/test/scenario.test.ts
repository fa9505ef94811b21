import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type LogRecord } from "@mk/logger";
import { afterEach, describe, expect, it } from "vitest";
import { DemoError } from "../src/errors.ts";
import { parseOptions } from "../src/options.ts";
import { runScenario } from "../src/scenario.ts";

// In-process runs of the scenario against the packages' sources (the e2e
// suite runs the built demo); records are kept to read the story back.

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  dirs = [];
});

async function run(stateDir: string, env: Record<string, string> = {}, args: string[] = []) {
  const records: LogRecord[] = [];
  const root = createLogger({ service: "demo", sinks: [(record) => records.push(record)] });
  const options = parseOptions(["--state-dir", stateDir, "--checkpoint-ms", "50", ...args], env, "/");
  try {
    const result = await runScenario(options, root);
    return { result, records };
  } finally {
    await root.close();
  }
}

describe("runScenario", () => {
  it("counts 10 then 20 across two runs, and leaves only echo.state and logger.state", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mk-demo-scenario-"));
    dirs.push(dir);
    const first = await run(dir);
    expect(first.result).toEqual({ echoCount: 10, loggerLines: 2 });
    expect(first.records.filter((r) => r.level === "error")).toEqual([]);
    expect(
      first.records.some((r) => r.service === "demo" && r.message.startsWith("checkpoint: saved the state of")),
    ).toBe(true);
    const second = await run(dir);
    expect(second.result).toEqual({ echoCount: 20, loggerLines: 4 });
    expect((await readdir(dir)).sort()).toEqual(["echo.state", "logger.state"]);
  });

  it("throws a DemoError with a hint, not the kernel's error, when the key is wrong", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mk-demo-scenario-"));
    dirs.push(dir);
    await run(dir, { MK_STATE_KEY: "1234567890123456" });
    const failure = await run(dir, { MK_STATE_KEY: "6543210987654321" }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DemoError);
    expect((failure as DemoError).message).toMatch(
      /^cannot load the saved state of logger from .*logger\.state: .*\[AUTH_FAILED\]$/,
    );
    expect((failure as DemoError).hint).toMatch(/^wrong MK_STATE_KEY\?/);
    expect((failure as DemoError).exitCode).toBe(1);
  });
});
