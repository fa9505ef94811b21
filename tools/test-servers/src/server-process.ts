import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { TestServerError } from "./errors.ts";

/** How to run one server process. */
export interface ProcessSpec {
  command: string;
  args: readonly string[];
  /** Run as this user and group (set when we are root and the server refuses root). */
  uid?: number | undefined;
  gid?: number | undefined;
  cwd?: string | undefined;
  /** The server's folder, removed by the watchdog if this process dies without cleaning up. */
  dir?: string | undefined;
}

/** Decides from each output line whether the server is ready (`true`), failed (a reason) or neither (`undefined`). */
export type ReadyCheck = (line: string) => true | string | undefined;

const OUTPUT_LINES = 60;

// Every process group and folder still alive, so that a test run that ends
// without calling stop() (a crash, a forgotten afterAll) leaves nothing behind.
const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function cleanUp(): void {
  for (const pid of liveGroups) killGroup(pid, "SIGKILL");
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", cleanUp);
  // A test runner ends a worker with a signal, which skips "exit": clean up, then die of the
  // same signal as before (the listener is gone once it ran).
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.once(signal, () => {
      cleanUp();
      process.kill(process.pid, signal);
    });
  }
}

/**
 * A detached shell that outlives us: once this process is gone (even by SIGKILL, which
 * runs no hook), it kills the server's process group and removes its folder. Stopped by
 * {@link ServerProcess.kill} when the server ends normally.
 */
function watchdog(pid: number, dir: string | undefined): ChildProcess {
  const remove = dir === undefined ? "" : `; rm -rf '${dir.replaceAll("'", "")}'`;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 -${pid} ${pid} 2>/dev/null${remove}`;
  const child = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
  child.unref();
  return child;
}

/** Remembers a folder to remove if the process exits before its helper is stopped. */
export function trackDir(dir: string): void {
  installExitHook();
  liveDirs.add(dir);
}

/** Removes a folder now and forgets it. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  liveDirs.delete(dir);
}

/**
 * `pid` and every process below it. PostgreSQL's backends call setsid(), so they leave
 * the postmaster's process group: a signal meant for "the server" must reach them by tree.
 */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [pid]; // no /proc: the process group is all we can reach
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // Field 4 (ppid) follows the command name, which is in parentheses and may hold spaces.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] ?? -1) ?? []));
  return tree;
}

/** Signals the process group of `pid` and every process in its tree. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  const targets = [-pid, ...processTree(pid)];
  for (const target of targets) {
    try {
      process.kill(target, signal);
    } catch {
      // ESRCH: already gone, which is what we want.
    }
  }
}

/**
 * One running server, in its own process group (spawned detached) so that
 * a kill reaches the server and every child it forked (PostgreSQL's backends).
 */
export class ServerProcess {
  readonly #server: string;
  readonly #pid: number;
  readonly #output: string[] = [];
  readonly #exited: Promise<void>;
  #alive = true;

  private constructor(server: string, child: ChildProcess, pid: number, dir: string | undefined) {
    this.#server = server;
    this.#pid = pid;
    liveGroups.add(pid);
    const guard = watchdog(pid, dir);
    this.#exited = new Promise((resolve) => {
      child.once("exit", () => {
        this.#alive = false;
        liveGroups.delete(pid);
        if (guard.pid !== undefined) killGroup(guard.pid, "SIGKILL");
        // The leader is gone; its forked children must not outlive it.
        killGroup(pid, "SIGKILL");
        resolve();
      });
    });
  }

  /**
   * Spawns the server and resolves once `ready` says so. Rejects with
   * `SERVER_START_FAILED` (with the last output lines) if the process exits,
   * `ready` reports a failure, or `timeoutMs` passes; the process is killed then.
   */
  static start(server: string, spec: ProcessSpec, ready: ReadyCheck, timeoutMs: number): Promise<ServerProcess> {
    installExitHook();
    return new Promise((resolve, reject) => {
      const child = spawn(spec.command, spec.args, {
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        ...(spec.uid === undefined ? {} : { uid: spec.uid }),
        ...(spec.gid === undefined ? {} : { gid: spec.gid }),
        ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
      });
      let settled = false;
      let proc: ServerProcess | undefined;
      const fail = (reason: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const tail = proc === undefined ? "" : proc.output();
        if (proc !== undefined) void proc.kill("SIGKILL");
        reject(
          new TestServerError(
            "SERVER_START_FAILED",
            server,
            `${server} did not start (${spec.command} ${spec.args.join(" ")}): ${reason}${tail === "" ? "" : `\n--- last output ---\n${tail}`}`,
            { cause },
          ),
        );
      };
      const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
      child.once("error", (error) => fail(error.message, error));
      if (child.pid === undefined) return; // "error" follows (ENOENT, EACCES)
      const started = new ServerProcess(server, child, child.pid, spec.dir);
      proc = started;
      const onLine = (line: string): void => {
        started.#record(line);
        if (settled) return;
        const verdict = ready(line);
        if (verdict === true) {
          settled = true;
          clearTimeout(timer);
          resolve(started);
        } else if (verdict !== undefined) fail(verdict);
      };
      for (const stream of [child.stdout, child.stderr]) {
        let partial = "";
        stream?.setEncoding("utf8");
        stream?.on("data", (chunk: string) => {
          const lines = (partial + chunk).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) onLine(line);
        });
      }
      child.once("exit", (code, signal) => fail(`exited with ${signal ?? `code ${String(code)}`}`));
    });
  }

  /** The server's process id (the leader of its process group). */
  get pid(): number {
    return this.#pid;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** The server's last output lines, for error messages. */
  output(): string {
    return this.#output.join("\n");
  }

  #record(line: string): void {
    this.#output.push(line);
    if (this.#output.length > OUTPUT_LINES) this.#output.shift();
  }

  /** Sends `signal` to the whole process group, without waiting. */
  signal(signal: NodeJS.Signals): void {
    if (this.#alive) killGroup(this.#pid, signal);
  }

  /**
   * Sends SIGSTOP to the whole tree and resolves once the leader shows as stopped in
   * /proc (on a loaded machine the stop takes effect only when the process is next
   * scheduled). Bounded: gives up after `ms`.
   */
  async pause(ms = 5_000): Promise<boolean> {
    if (!this.#alive) return false;
    killGroup(this.#pid, "SIGSTOP");
    for (const deadline = Date.now() + ms; Date.now() < deadline;) {
      try {
        const stat = readFileSync(`/proc/${this.#pid}/stat`, "utf8");
        if (/^[TtZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3))) return true;
      } catch {
        return false; // no /proc, or the process is gone
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return false;
  }

  /**
   * Sends `signal` to the whole process group and waits for the leader to exit.
   * A group still alive 15 s after a gentler signal gets SIGKILL.
   */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.#alive) return;
    killGroup(this.#pid, signal);
    // A stopped process only acts on the signal once continued.
    if (signal !== "SIGKILL") killGroup(this.#pid, "SIGCONT");
    if (signal === "SIGKILL") return this.#exited;
    let timer: NodeJS.Timeout | undefined;
    const escalate = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        killGroup(this.#pid, "SIGKILL");
        resolve();
      }, 15_000);
    });
    await Promise.race([this.#exited, escalate]);
    clearTimeout(timer);
    await this.#exited;
  }

  /** The server's name, for messages. */
  get server(): string {
    return this.#server;
  }
}
