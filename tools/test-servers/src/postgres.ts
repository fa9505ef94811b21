import { execFile } from "node:child_process";
import { chownSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestServerError } from "./errors.ts";
import { debianPostgresBinDirs, findExecutable } from "./find-binary.ts";
import { freeLoopbackPort } from "./free-port.ts";
import { checkCommonOptions, serverHandle, type ServerHandle } from "./server-handle.ts";
import { removeDir, ServerProcess, trackDir, type ReadyCheck } from "./server-process.ts";

/** Options of {@link startPostgres}. */
export interface PostgresServerOptions {
  /**
   * How long initdb, a start or a restart may each take before failing.
   * @default 60000
   */
  startTimeoutMs?: number;
  /**
   * Server settings passed as `-c name=value` (e.g. `{ max_connections: "20" }`).
   * `fsync` and `synchronous_commit` stay on unless set here.
   */
  settings?: Readonly<Record<string, string>>;
}

/** A running PostgreSQL started by {@link startPostgres}: superuser `postgres`, trust auth, loopback only. */
export interface PostgresServer extends ServerHandle {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly connectionString: string;
  /** The temporary folder: `data/` is the cluster, the Unix socket sits beside it. */
  readonly dir: string;
}

const SERVER = "postgres";

/**
 * `initdb` and `postgres`: from `$MK_PG_BIN`, then `searchDirs` (default: Debian's
 * `/usr/lib/postgresql/<major>/bin`, newest first), then `PATH`. Throws
 * `SERVER_NOT_INSTALLED` with one line saying what to install.
 */
export function postgresBinaries(searchDirs: readonly string[] = debianPostgresBinDirs()): {
  initdb: string;
  postgres: string;
} {
  const fromEnv = process.env["MK_PG_BIN"];
  const dirs = [...(fromEnv === undefined || fromEnv === "" ? [] : [fromEnv]), ...searchDirs];
  const initdb = findExecutable("initdb", dirs);
  const postgres = findExecutable("postgres", dirs);
  if (initdb !== undefined && postgres !== undefined) return { initdb, postgres };
  throw new TestServerError(
    "SERVER_NOT_INSTALLED",
    SERVER,
    "PostgreSQL server binaries (initdb, postgres) not found in $MK_PG_BIN, /usr/lib/postgresql/*/bin or PATH: install them (Debian/Ubuntu: apt-get install -y postgresql) or set MK_PG_BIN to their folder",
  );
}

/** initdb and postgres refuse to run as root: as root we run them as the `postgres` user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) {
    throw new TestServerError(
      "SERVER_NOT_INSTALLED",
      SERVER,
      "running as root but there is no `postgres` user to run PostgreSQL as: install the server package (Debian/Ubuntu: apt-get install -y postgresql), which creates it",
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function checkOptions(options: PostgresServerOptions): void {
  checkCommonOptions(SERVER, options);
  const { settings } = options;
  if (settings !== undefined) {
    for (const [name, value] of Object.entries(settings)) {
      if (!/^[a-z_.]+$/.test(name) || typeof value !== "string") {
        throw new TestServerError(
          "INVALID_ARGUMENT",
          SERVER,
          `expected settings of the form { name: "value" }, got ${name}=${String(value)}`,
        );
      }
    }
  }
}

function initdb(
  binary: string,
  data: string,
  user: { uid: number; gid: number } | undefined,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"],
      { timeout: timeoutMs, killSignal: "SIGKILL", ...user },
      (error, stdout, stderr) => {
        if (error === null) resolve();
        else {
          reject(
            new TestServerError(
              "SERVER_START_FAILED",
              SERVER,
              `initdb failed in ${data}: ${error.message}\n${stdout}${stderr}`,
              {
                cause: error,
              },
            ),
          );
        }
      },
    );
  });
}

const BIND_FAILED = /could not bind|could not create any TCP\/IP sockets|Address already in use/;
// After a SIGKILL the old backends may take a moment to let go of the shared memory and lock file.
const LEFTOVERS = /pre-existing shared memory block|lock file .* already exists/;

/**
 * Starts PostgreSQL in a new temporary folder (initdb, then the postmaster) on a
 * random free loopback port; its Unix socket stays in the folder too.
 *
 * @throws {TestServerError} `SERVER_NOT_INSTALLED` (one line saying what to install), `SERVER_START_FAILED`
 * @example
 * const pg = await startPostgres();
 * try { const client = new pg.Client(server.connectionString); } finally { await pg.stop(); }
 */
export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  checkOptions(options);
  const binaries = postgresBinaries();
  const user = serverUser();
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), "mk-pg-"));
  trackDir(dir);
  const data = join(dir, "data");

  const launch = (port: number): Promise<ServerProcess> => {
    const settings: Record<string, string> = {
      listen_addresses: "127.0.0.1",
      unix_socket_directories: dir,
      logging_collector: "off",
      fsync: "on",
      synchronous_commit: "on",
      shared_buffers: "16MB",
      ...options.settings,
    };
    const args = ["-D", data, "-p", String(port)];
    for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
    // A startup failure makes the postmaster exit (reported with its last lines); a FATAL
    // line alone may be a client turned away while the server starts, not a failure.
    const ready: ReadyCheck = (line) =>
      line.includes("database system is ready to accept connections") ? true : undefined;
    return ServerProcess.start(
      SERVER,
      { command: binaries.postgres, args, uid: user?.uid, gid: user?.gid, dir },
      ready,
      timeoutMs,
    );
  };

  /** Retries a start that failed on a taken port (new port when `samePort` is false) or on a killed server's leftovers. */
  const launchWithRetries = async (
    initialPort: number,
    samePort: boolean,
  ): Promise<{ proc: ServerProcess; port: number }> => {
    let port = initialPort;
    let lastError: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        return { proc: await launch(port), port };
      } catch (error) {
        lastError = error;
        const text = String(error instanceof Error ? error.message : error);
        if (BIND_FAILED.test(text) && !samePort) port = await freeLoopbackPort();
        else if (!BIND_FAILED.test(text) && !LEFTOVERS.test(text)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    throw lastError;
  };

  let first: { proc: ServerProcess; port: number };
  try {
    if (user !== undefined) chownSync(dir, user.uid, user.gid);
    await initdb(binaries.initdb, data, user, timeoutMs);
    first = await launchWithRetries(await freeLoopbackPort(), false);
  } catch (error) {
    removeDir(dir);
    throw error;
  }
  const port = first.port;
  return serverHandle(
    first.proc,
    {
      server: SERVER,
      label: "PostgreSQL",
      port,
      dir,
      // SIGINT is PostgreSQL's fast shutdown: it disconnects clients instead of waiting for them.
      shutdownSignal: "SIGINT",
      relaunch: async () => (await launchWithRetries(port, true)).proc,
    },
    {
      host: "127.0.0.1",
      port,
      user: "postgres",
      database: "postgres",
      connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
      dir,
    },
  );
}
