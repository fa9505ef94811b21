import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "test", "fixtures");

interface Run {
  stdout: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs the child scenario; sends each signal once the child has printed its
 * trigger line (the first one's is "ready"); resolves when it exits.
 */
function runChild(
  scenario: string,
  signals: NodeJS.Signals[],
  triggers: string[] = ["ready\n"],
  killAfterMs = 60_000,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(fixtures, "shutdown-child.ts"), scenario], {
      cwd: fixtures,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(fixtures, "tsconfig.json") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let sent = 0;
    // Starting node with tsx takes seconds on a busy machine: only a hung child is killed.
    const killer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      while (sent < signals.length && stdout.includes(triggers[sent] ?? "ready\n")) {
        child.kill(signals[sent] as NodeJS.Signals);
        sent += 1;
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(killer);
      if (!stdout.includes("ready")) reject(new Error(`child never got ready: ${stderr}`));
      else resolve({ stdout, code, signal });
    });
  });
}

describe("enableShutdownHooks (real child process, real signals)", { timeout: 120_000 }, () => {
  it("on SIGTERM stops dependents first, closes, and ends by the signal", async () => {
    const run = await runChild("hooks", ["SIGTERM"]);
    const lines = run.stdout.split("\n");
    expect(lines.indexOf("stop:b")).toBeGreaterThan(-1);
    expect(lines.indexOf("stop:b")).toBeLessThan(lines.indexOf("stop:a"));
    expect(run.stdout).toContain("log kernel: received SIGTERM: stopping all services");
    expect(run.stdout).toContain("log kernel: kernel closed");
    expect(run.signal).toBe("SIGTERM");
  });

  it("on SIGINT does the same, once", async () => {
    const run = await runChild("hooks", ["SIGINT"]);
    expect(run.stdout.match(/stop:a/g)).toHaveLength(1);
    expect(run.signal).toBe("SIGINT");
  });

  it("a failing stop is logged, the rest still stops, and the exit code is 1", async () => {
    const run = await runChild("failing", ["SIGTERM"]);
    expect(run.stdout).toContain("stop:b");
    expect(run.stdout).toContain("stop:a");
    expect(run.stdout).toContain("shutdown failed");
    expect(run.stdout).toContain("b cannot stop");
    expect(run.code).toBe(1);
  });

  it("a second signal during a hung shutdown ends the process at once", async () => {
    // The second signal goes once the first is being handled (b's stop has begun).
    const run = await runChild("slow", ["SIGTERM", "SIGTERM"], ["ready\n", "stop:b\n"]);
    expect(run.stdout).toContain("stop:b");
    expect(run.stdout).not.toContain("stop:a");
    expect(run.signal).toBe("SIGTERM");
  });

  it("issue 13 #9: with the app's own SIGTERM listener, the process still ends, with status 143", async () => {
    // Before the fix the re-raised signal met the app's listener and the process stayed up (killed here after 30 s).
    const run = await runChild("own-listener", ["SIGTERM"], ["ready\n"], 30_000);
    expect(run.stdout).toContain("app: SIGTERM");
    expect(run.stdout).toContain("stop:a");
    expect(run.stdout).toContain("log kernel: shutdown complete");
    expect(run.signal).toBeNull();
    expect(run.code).toBe(143);
  });

  it("without hooks, a kernel with checkpoints on does not keep the process alive", async () => {
    const run = await runChild("idle", []);
    expect(run.code).toBe(0);
    expect(run.signal).toBeNull();
  });
});
