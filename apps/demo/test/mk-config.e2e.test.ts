// The demo's services run through the mk command line (`mk run` with
// apps/demo/mk.config.js), as a user of @mk/cli would run them.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const DEMO_DIR = fileURLToPath(new URL("..", import.meta.url));
const MK_BIN = join(DEMO_DIR, "node_modules", "@mk", "cli", "dist", "bin.js");

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("the demo through `mk run`", () => {
  it("boots echo and logger from mk.config.js, runs the logger's lines, and saves both states on SIGTERM", async () => {
    expect(existsSync(MK_BIN), `${MK_BIN} is missing: build @mk/cli first`).toBe(true);
    dir = await mkdtemp(join(tmpdir(), "mk-demo-cli-"));
    const child = spawn(process.execPath, [MK_BIN, "run"], {
      cwd: DEMO_DIR,
      env: {
        PATH: process.env["PATH"] ?? "",
        MK_STATE_KEY: "a-real-key-of-32-characters-long",
        MK_DEMO_STORE: `file:${join(dir, "state")}`,
        MK_RUNTIME_DIR: join(dir, "run"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const ended = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (c: string) => {
        stdout += c;
        if (stdout.includes("got reply from echo") && stdout.includes("[mk] control socket")) resolve();
      });
      void ended.then(() => reject(new Error(`mk run ended early:\n${stdout}\n${stderr}`)));
    });
    child.kill("SIGTERM");
    const code = await ended;
    clearTimeout(killer);
    expect(code, stdout + stderr).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toMatch(/\[mk\] booting echo 1\.0\.0 from \.\/dist\/services\/echo-v1\.js: named by the config/);
    expect(stdout).toMatch(/\[logger\] got reply from echo: code 0, echo service handled/);
    expect(stdout).toMatch(/\[mk\] stopped; state saved/);
    expect((await readdir(join(dir, "state"))).sort()).toEqual(["echo.state", "logger.state"]);
  });
});
