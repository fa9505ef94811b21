// The lifecycle every started test server shares (nats-server, PostgreSQL): kill, signal, pause,
// restart on the same port and folder, stop and remove the folder.
import { TestServerError } from "./errors.ts";
import { removeDir, type ServerProcess } from "./server-process.ts";

/** A running test server's process and lifecycle. */
export interface ServerHandle {
  /** The server's process id; `undefined` while it is killed. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Sends `signal` (default SIGKILL) to the server's process group and waits for it to exit. Its folder and data stay. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Sends `signal` to the server's process group without waiting (e.g. SIGSTOP to make it
   * hang, SIGCONT to resume it). A no-op while it is killed.
   */
  signal(signal: NodeJS.Signals): void;
  /** SIGSTOP to the whole tree (a hung server), resolved once it shows as stopped; `false` if it did not within 5 s. SIGCONT resumes it. */
  pause(): Promise<boolean>;
  /** Starts the server again on the same port and folder (shutting it down first if it runs; after a kill it recovers its data). */
  restart(): Promise<void>;
  /** Kills the server and removes its folder. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** How {@link serverHandle} runs one server. */
export interface HandleSpec {
  /** The server's name in errors (`"nats-server"`, `"postgres"`). */
  server: string;
  /** How messages name it (`"nats-server"`, `"PostgreSQL"`). */
  label: string;
  port: number;
  dir: string;
  /** Sent before a restart: the server's own clean shutdown. */
  shutdownSignal: NodeJS.Signals;
  /** Starts the server again on `port` in `dir`. */
  relaunch(): Promise<ServerProcess>;
}

/** The lifecycle of a server started as `first`; `extra` (its address and such) is added to it. */
export function serverHandle<E extends object>(first: ServerProcess, spec: HandleSpec, extra: E): ServerHandle & E {
  let proc: ServerProcess | undefined = first;
  let stopped = false;
  const handle: ServerHandle = {
    get pid() {
      return proc?.alive === true ? proc.pid : undefined;
    },
    get running() {
      return proc?.alive === true;
    },
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      await proc?.kill(signal);
    },
    signal(signal: NodeJS.Signals) {
      if (proc?.alive === true) proc.signal(signal);
    },
    async pause() {
      return (await proc?.pause()) ?? false;
    },
    async restart() {
      if (stopped) {
        throw new TestServerError(
          "SERVER_STOPPED",
          spec.server,
          `${spec.label} on port ${spec.port} was stopped; start a new one`,
        );
      }
      await proc?.kill(spec.shutdownSignal);
      proc = undefined;
      proc = await spec.relaunch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await proc?.kill("SIGKILL");
      removeDir(spec.dir);
    },
    [Symbol.asyncDispose]() {
      return handle.stop();
    },
  };
  return Object.assign(handle, extra);
}

/**
 * Checks what every server's options share: an object, and `startTimeoutMs` a positive integer.
 * @throws {TestServerError} `INVALID_ARGUMENT`.
 */
export function checkCommonOptions(server: string, options: { startTimeoutMs?: number }): void {
  if (typeof options !== "object" || options === null) {
    throw new TestServerError("INVALID_ARGUMENT", server, `expected an options object, got ${String(options)}`);
  }
  const { startTimeoutMs } = options;
  if (startTimeoutMs !== undefined && !(Number.isInteger(startTimeoutMs) && startTimeoutMs > 0)) {
    throw new TestServerError(
      "INVALID_ARGUMENT",
      server,
      `expected startTimeoutMs to be a positive integer, got ${String(startTimeoutMs)}`,
    );
  }
}
