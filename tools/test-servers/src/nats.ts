import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestServerError } from "./errors.ts";
import { findExecutable } from "./find-binary.ts";
import { checkCommonOptions, serverHandle, type ServerHandle } from "./server-handle.ts";
import { removeDir, ServerProcess, trackDir, type ReadyCheck } from "./server-process.ts";

/** Options of {@link startNats}. */
export interface NatsServerOptions {
  /**
   * Enable JetStream (`-js`) with file storage in the server's temporary folder.
   * @default false
   */
  jetstream?: boolean;
  /**
   * How long a start (or restart) may take before it fails.
   * @default 30000
   */
  startTimeoutMs?: number;
  /**
   * The server's `max_payload` in bytes (written to a config file; nats-server has no flag for it).
   * @default 1048576 (nats-server's own default)
   */
  maxPayload?: number;
  /** Extra command-line arguments for nats-server. */
  args?: readonly string[];
}

/** A running nats-server started by {@link startNats}. */
export interface NatsServer extends ServerHandle {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The server's temporary folder (JetStream data lives in `<dir>/jetstream`). */
  readonly dir: string;
}

const SERVER = "nats-server";
const NATS_DIRS = ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"];

/**
 * The nats-server binary: `$MK_NATS_SERVER`, then `dirs` (default: the usual
 * folders), then `PATH`. Throws `SERVER_NOT_INSTALLED` with one line saying what to install.
 */
export function natsServerBinary(dirs: readonly string[] = NATS_DIRS): string {
  const fromEnv = process.env["MK_NATS_SERVER"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const found = findExecutable(SERVER, dirs);
  if (found !== undefined) return found;
  throw new TestServerError(
    "SERVER_NOT_INSTALLED",
    SERVER,
    "nats-server not found (looked in /usr/sbin, /usr/local/bin and PATH): install it (Debian/Ubuntu: apt-get install -y nats-server) or set MK_NATS_SERVER to its path",
  );
}

function checkOptions(options: NatsServerOptions): void {
  checkCommonOptions(SERVER, options);
  const { jetstream, args, maxPayload } = options;
  if (maxPayload !== undefined && !(Number.isInteger(maxPayload) && maxPayload > 0)) {
    throw new TestServerError(
      "INVALID_ARGUMENT",
      SERVER,
      `expected maxPayload to be a positive integer, got ${String(maxPayload)}`,
    );
  }
  if (jetstream !== undefined && typeof jetstream !== "boolean") {
    throw new TestServerError(
      "INVALID_ARGUMENT",
      SERVER,
      `expected jetstream to be a boolean, got ${typeof jetstream}`,
    );
  }
  if (args !== undefined && !(Array.isArray(args) && args.every((arg) => typeof arg === "string"))) {
    throw new TestServerError("INVALID_ARGUMENT", SERVER, "expected args to be an array of strings");
  }
}

/**
 * Starts a nats-server on a random free loopback port (the server picks it:
 * `-p -1`), in a new temporary folder.
 *
 * @throws {TestServerError} `SERVER_NOT_INSTALLED` (one line saying what to install), `SERVER_START_FAILED`
 * @example
 * const nats = await startNats({ jetstream: true });
 * try { await connect({ servers: nats.url }); } finally { await nats.stop(); }
 */
export async function startNats(options: NatsServerOptions = {}): Promise<NatsServer> {
  checkOptions(options);
  const binary = natsServerBinary();
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const dir = mkdtempSync(join(tmpdir(), "mk-nats-"));
  trackDir(dir);
  const config = join(dir, "nats.conf");
  if (options.maxPayload !== undefined) writeFileSync(config, `max_payload: ${options.maxPayload}\n`);
  const args = (port: number): string[] => [
    ...(options.maxPayload === undefined ? [] : ["-c", config]),
    "-a",
    "127.0.0.1",
    "-p",
    String(port),
    ...(options.jetstream === true ? ["-js", "-sd", join(dir, "jetstream")] : []),
    ...(options.args ?? []),
  ];

  const launch = async (port: number): Promise<{ proc: ServerProcess; port: number }> => {
    let listening = port;
    const ready: ReadyCheck = (line) => {
      const match = /Listening for client connections on [^\s]*:(\d+)/.exec(line);
      if (match?.[1] !== undefined) listening = Number(match[1]);
      if (line.includes("Server is ready")) return true;
      if (/\[FTL\]/.test(line)) return line;
      return undefined;
    };
    const proc = await ServerProcess.start(SERVER, { command: binary, args: args(port), dir }, ready, timeoutMs);
    return { proc, port: listening };
  };

  let first: { proc: ServerProcess; port: number };
  try {
    first = await launch(-1);
  } catch (error) {
    removeDir(dir);
    throw error;
  }
  const port = first.port;
  return serverHandle(
    first.proc,
    {
      server: SERVER,
      label: "nats-server",
      port,
      dir,
      shutdownSignal: "SIGTERM",
      // The port was ours a moment ago; a listener in TIME_WAIT or a slow exit can hold it briefly.
      async relaunch() {
        let lastError: unknown;
        for (let attempt = 0; attempt < 20; attempt++) {
          try {
            return (await launch(port)).proc;
          } catch (error) {
            lastError = error;
            if (!String(error).includes("address already in use")) throw error;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
        throw lastError;
      },
    },
    { url: `nats://127.0.0.1:${port}`, port, dir },
  );
}
