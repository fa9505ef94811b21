import { chmod, lstat, unlink } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { ControlError, describeError } from "../errors.ts";
import { requestControl } from "./control-client.ts";
import { MAX_LINE, parseRequest, type ControlRequest, type ControlResponse } from "./protocol.ts";
import { checkPrivateDir, unsafeReason } from "./runtime-dir.ts";

/** Answers one request; a thrown error becomes an `ok: false` answer. */
export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

/**
 * The control endpoint of one running kernel: a Unix socket, mode 0600, in a 0700 folder
 * owned by this user. Nothing listens on TCP.
 */
export class ControlServer {
  readonly path: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(path: string, server: Server) {
    this.path = path;
    this.#server = server;
  }

  /**
   * Listens at `path` after checking its folder; a stale socket from a killed kernel is
   * replaced, a live one refused.
   * @throws {ControlError} `CONTROL_UNSAFE` for an unsafe folder or socket, or when a kernel already answers there.
   */
  static async listen(
    path: string,
    handler: ControlHandler,
    onError: (error: unknown) => void,
  ): Promise<ControlServer> {
    await checkPrivateDir(dirname(path), true);
    await removeStale(path);
    const server = createServer({ allowHalfOpen: true });
    const control = new ControlServer(path, server);
    server.on("connection", (socket) => control.#serve(socket, handler, onError));
    // Closes the window between bind() and chmod(): the socket is born 0600.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    await chmod(path, 0o600);
    return control;
  }

  #serve(socket: Socket, handler: ControlHandler, onError: (error: unknown) => void): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", onError);
    let buffer = "";
    let done = false;
    socket.setEncoding("utf8");
    const answer = (response: ControlResponse): void => {
      done = true;
      socket.end(`${JSON.stringify(response)}\n`);
    };
    socket.on("data", (chunk: string) => {
      if (done) return;
      buffer += chunk;
      if (buffer.length > MAX_LINE) {
        answer({ ok: false, error: { code: "INVALID_ARGUMENT", message: "request too large" } });
        return;
      }
      const newline = buffer.indexOf("\n");
      if (newline === -1) return;
      done = true;
      const line = buffer.slice(0, newline);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        // Not JSON: the answer below says so; nothing else to report.
        parsed = undefined;
      }
      const request = parseRequest(parsed);
      if (typeof request === "string") {
        answer({ ok: false, error: { code: "INVALID_ARGUMENT", message: `bad control request: ${request}` } });
        return;
      }
      handler(request).then(
        (data) => answer(data === undefined ? { ok: true } : { ok: true, data }),
        (error: unknown) => {
          const code =
            typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : "FAILED";
          const failure: { code: string; message: string; stack?: string } = { code, message: describeError(error) };
          const stack = stackOf(error);
          if (stack !== undefined) failure.stack = stack;
          answer({ ok: false, error: failure });
        },
      );
    });
  }

  /** Stops listening, ends open connections and removes the socket file. Idempotent. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await unlink(this.path).catch(() => {
      // Already gone (closed twice, or removed by hand): nothing to clean up.
    });
  }
}

/** The deepest stack of an error and its causes, for `mk dev`'s rollback report. */
function stackOf(error: unknown): string | undefined {
  let deepest: string | undefined;
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current.stack !== undefined) deepest = current.stack;
    current = current.cause;
  }
  return deepest;
}

async function removeStale(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return;
    throw cause;
  }
  if (!info.isSocket()) {
    throw new ControlError("CONTROL_UNSAFE", `${path} exists and is not a socket: refusing to replace it`);
  }
  const reason = unsafeReason(info, "control socket", path);
  if (reason !== undefined) throw new ControlError("CONTROL_UNSAFE", `${reason}: refusing to replace it`);
  const alive = await requestControl(path, { op: "ps" }, 5_000).then(
    () => true,
    () => false,
  );
  if (alive) {
    throw new ControlError("CONTROL_FAILED", `a kernel for this config is already running (control socket ${path})`, {
      hint: "stop it first (SIGTERM), or use `mk ps` to look at it",
    });
  }
  await unlink(path);
}
