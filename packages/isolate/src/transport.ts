import { fork, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import { ISOLATE_MAIN } from "./entry-url.ts";
import type { IsolateInit } from "./protocol.ts";

/** Heap limits of a thread isolate (worker_threads `resourceLimits`); a process isolate uses `maxOldGenerationSizeMb` only. */
export interface ResourceLimits {
  maxOldGenerationSizeMb?: number;
  maxYoungGenerationSizeMb?: number;
  codeRangeSizeMb?: number;
  stackSizeMb?: number;
}

/** How the isolate ended: an error it threw, an exit code, or a signal. */
export interface Ending {
  code: number | null;
  signal: NodeJS.Signals | null;
  error: unknown;
}

export interface TransportEvents {
  message(batch: unknown[][]): void;
  exit(ending: Ending): void;
  /** A line the isolate wrote to stdout or stderr. */
  output(stream: "stdout" | "stderr", line: string): void;
}

/** One isolate's channel, whichever kind: post a batch, kill it. */
export interface Transport {
  post(batch: unknown[][]): void;
  kill(): void;
}

function lines(stream: Readable | null, name: "stdout" | "stderr", events: TransportEvents): void {
  if (stream === null) return;
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const line of parts) events.output(name, line);
  });
  stream.on("end", () => {
    if (rest !== "") events.output(name, rest);
    rest = "";
  });
}

export function spawnThread(init: IsolateInit, limits: ResourceLimits | undefined, events: TransportEvents): Transport {
  const worker = new Worker(ISOLATE_MAIN, {
    workerData: init,
    // The kernel's flags (test runners' loaders, inspectors) are not the service's.
    execArgv: [],
    stdout: true,
    stderr: true,
    ...(limits === undefined ? {} : { resourceLimits: limits }),
  });
  let error: unknown;
  worker.on("message", (batch: unknown[][]) => events.message(batch));
  worker.on("error", (e) => {
    error ??= e;
  });
  worker.on("exit", (code) => events.exit({ code, signal: null, error }));
  lines(worker.stdout, "stdout", events);
  lines(worker.stderr, "stderr", events);
  return {
    post: (batch) => worker.postMessage(batch),
    kill: () => {
      void worker.terminate();
    },
  };
}

export function spawnProcess(
  init: IsolateInit,
  limits: ResourceLimits | undefined,
  events: TransportEvents,
): Transport {
  const execArgv: string[] = [];
  if (limits?.maxOldGenerationSizeMb !== undefined)
    execArgv.push(`--max-old-space-size=${limits.maxOldGenerationSizeMb}`);
  const child: ChildProcess = fork(ISOLATE_MAIN, [JSON.stringify(init)], {
    serialization: "advanced",
    execArgv,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let error: unknown;
  child.on("message", (batch) => events.message(batch as unknown[][]));
  child.on("error", (e) => {
    error ??= e;
  });
  // "close", not "exit": by then stderr has been read, so an out-of-memory message is in the tail.
  child.on("close", (code, signal) => events.exit({ code, signal, error }));
  lines(child.stdout, "stdout", events);
  lines(child.stderr, "stderr", events);
  const swallow = (): void => {
    // A send to a process that just died: its "exit" reports the crash; the error adds nothing.
  };
  return {
    post: (batch) => {
      child.send(batch, undefined, undefined, swallow);
    },
    kill: () => {
      child.kill("SIGKILL");
    },
  };
}
