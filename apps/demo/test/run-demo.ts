import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The built demo, run exactly as a user would (`node apps/demo/dist/main.js`). */
export const DEMO_MAIN: string = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** Fails with a clear message instead of a spawn error when the demo was not built. */
export function assertBuilt(): void {
  if (!existsSync(DEMO_MAIN)) {
    throw new Error(
      `${DEMO_MAIN} is missing: the end-to-end tests run the BUILT demo. Run \`pnpm build\` in apps/demo ` +
        "(or `pnpm test` from the root, where turbo builds before testing).",
    );
  }
}

export interface LogLine {
  time: string;
  level: string;
  service: string;
  message: string;
  /** The whole line as printed. */
  text: string;
}

export interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: LogLine[];
  /** stdout lines that are not in the `[time] [LEVEL] [service] message` format. */
  stray: string[];
}

const LINE = /^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\] \[(DEBUG|INFO|WARN|ERROR)\] \[([^\]]+)\] (.*)$/;

/**
 * Runs the built demo with `args`, in `cwd`, with a clean environment (PATH
 * and `env` only: no MK_STATE_KEY or INIT_CWD leaks in from the test runner).
 */
export function runDemo(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO_MAIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { PATH: process.env["PATH"] ?? "", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // Generous: a hung demo should fail the test, a slow machine should not.
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const lines: LogLine[] = [];
      const stray: string[] = [];
      for (const text of stdout.split("\n")) {
        if (text === "") continue;
        const match = LINE.exec(text);
        if (match === null) stray.push(text);
        else
          lines.push({
            time: match[1] ?? "",
            level: match[2] ?? "",
            service: match[3] ?? "",
            message: match[4] ?? "",
            text,
          });
      }
      resolve({ code, stdout, stderr, lines, stray });
    });
  });
}

/** `[service] message` of every line, the form the order assertions read. */
export function story(run: DemoRun): string[] {
  return run.lines.map((l) => `[${l.service}] ${l.message}`);
}

/**
 * The index of each pattern in `lines`, each searched after the previous
 * one's match; throws naming the first pattern not found in order.
 */
export function expectInOrder(lines: readonly string[], patterns: readonly (string | RegExp)[]): number[] {
  const found: number[] = [];
  let from = 0;
  for (const pattern of patterns) {
    const index = lines.findIndex(
      (line, i) => i >= from && (typeof pattern === "string" ? line.includes(pattern) : pattern.test(line)),
    );
    if (index === -1) {
      throw new Error(
        `expected ${String(pattern)} after line ${from} of the story:\n${lines.map((l, i) => `${i}: ${l}`).join("\n")}`,
      );
    }
    found.push(index);
    from = index + 1;
  }
  return found;
}

/** The N of the last `count is N` line. */
export function lastCount(run: DemoRun): number {
  const counts = run.lines.flatMap((l) => {
    const match = /^count is (\d+)$/.exec(l.message);
    return match === null || l.service !== "echo" ? [] : [Number(match[1])];
  });
  const last = counts.at(-1);
  if (last === undefined) throw new Error(`no "count is N" line in:\n${run.stdout}`);
  return last;
}
