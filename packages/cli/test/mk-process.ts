import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built binary, run as a user runs it (`node dist/bin.js`, what `npx mk` starts). */
export const MK_BIN: string = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
export const PACKAGE_DIR: string = fileURLToPath(new URL("..", import.meta.url));
export const KEY = "0123456789abcdef0123456789abcdef";
export const OTHER_KEY = "fedcba9876543210fedcba9876543210";

/** Fails with a clear message when the binary was not built. */
export function assertBuilt(): void {
  if (!existsSync(MK_BIN)) {
    throw new Error(
      `${MK_BIN} is missing: these tests run the BUILT binary. Run \`pnpm build\` in packages/cli first.`,
    );
  }
}

/** A throwaway project folder with its own runtime folder for control sockets. */
export interface Project {
  dir: string;
  runtimeDir: string;
  env: Record<string, string>;
  write(path: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

export async function makeProject(env: Record<string, string> = {}): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), "mk-cli-"));
  const runtimeDir = join(dir, ".run");
  return {
    dir,
    runtimeDir,
    env: { MK_STATE_KEY: KEY, MK_RUNTIME_DIR: runtimeDir, ...env },
    async write(path, text) {
      const full = join(dir, path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, text);
      return full;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Makes `import ... from "@mk/cli"` work inside a project, as `npm i -D @mk/cli` would. */
export async function linkCli(project: Project): Promise<void> {
  await mkdir(join(project.dir, "node_modules", "@mk"), { recursive: true });
  await symlink(PACKAGE_DIR, join(project.dir, "node_modules", "@mk", "cli"), "dir");
}

export interface MkResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Every child still running. A test that fails before stopping its `mk run` must not leave
 * it behind: they are all killed when the test worker exits (the per-child kill timers die
 * with the worker).
 */
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function spawnMk(args: readonly string[], cwd: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [MK_BIN, ...args], {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.on("close", () => children.delete(child));
  return child;
}

/**
 * Runs `mk ARGS` to its end (killed after 90 s: a hung command fails its test rather than the run).
 * `command` runs that program instead (e.g. `script` to give mk a terminal).
 */
export function mk(
  args: readonly string[],
  project: Pick<Project, "dir" | "env">,
  extraEnv: Record<string, string> = {},
  command?: readonly string[],
): Promise<MkResult> {
  return new Promise((resolve, reject) => {
    const env = { ...project.env, ...extraEnv };
    const child =
      command === undefined
        ? spawnMk(args, project.dir, env)
        : spawn(command[0] ?? "", command.slice(1), {
            cwd: project.dir,
            env: { PATH: process.env["PATH"] ?? "", ...env },
            stdio: ["ignore", "pipe", "pipe"],
          });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running `mk run` / `mk dev`. */
export interface RunningMk {
  child: ChildProcess;
  output(): string;
  /** Resolves when a stdout line matches `pattern` (rejects after `timeoutMs` or if the process ends first). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` and resolves with how it ended. */
  stop(signal?: NodeJS.Signals): Promise<MkResult>;
  ended: Promise<MkResult>;
}

export function startMk(
  args: readonly string[],
  project: Pick<Project, "dir" | "env">,
  extraEnv: Record<string, string> = {},
): RunningMk {
  const child = spawnMk(args, project.dir, { ...project.env, ...extraEnv });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout?.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
    for (const l of listeners) l();
  });
  child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const kill = setTimeout(() => child.kill("SIGKILL"), 180_000);
  const ended = new Promise<MkResult>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(kill);
      for (const l of listeners) l();
      resolve({ code, signal, stdout, stderr });
    });
  });
  let exited = false;
  void ended.then(() => (exited = true));
  return {
    child,
    output: () => stdout + stderr,
    ended,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        let from = 0;
        const check = (): void => {
          const lines = stdout.split("\n");
          for (let i = from; i < lines.length; i++) {
            const line = lines[i] ?? "";
            if (pattern.test(line)) {
              done();
              resolve(line);
              return;
            }
          }
          from = Math.max(0, lines.length - 1);
          if (exited) {
            done();
            reject(new Error(`mk ended before printing ${String(pattern)}:\n${stdout}\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no line matching ${String(pattern)} within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = "SIGTERM") {
      if (!exited) child.kill(signal);
      return ended;
    },
  };
}

/** A service module: counts boots and handled calls, keeps both as its state, logs them on start. */
export function counterService(version: string, step = 1): string {
  return `let boots = 0;
let count = 0;
export default {
  version: ${JSON.stringify(version)},
  start(ctx) { boots += 1; ctx.logger.info("v${version} boot %d count %d", boots, count); },
  handle(event) { count += ${step}; return { code: 0, message: "counted by ${version}", data: count }; },
  exportState() { return { boots, count }; },
  importState(state) { boots = state.boots; count = state.count; },
};
`;
}

/** A config module without imports (defineConfig is an identity function). */
export function config(body: Record<string, unknown>): string {
  return `export default ${JSON.stringify(body, null, 2)};\n`;
}
