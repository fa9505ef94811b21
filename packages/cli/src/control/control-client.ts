import { connect } from "node:net";
import { dirname } from "node:path";
import { ControlError } from "../errors.ts";
import { MAX_LINE, type ControlRequest, type ControlResponse } from "./protocol.ts";
import { checkPrivateDir, checkPrivateSocket } from "./runtime-dir.ts";

/** A failed operation reported by the kernel, with its remote code and stack. */
export class RemoteError extends ControlError {
  override name = "RemoteError";
  readonly remoteCode: string;
  readonly remoteStack: string | undefined;
  constructor(code: string, message: string, stack?: string) {
    super("CONTROL_FAILED", message);
    this.remoteCode = code;
    this.remoteStack = stack;
  }
}

/**
 * Sends one request over a socket whose folder and file were checked to be this user's own,
 * and resolves with the kernel's data.
 * @throws {ControlError} `CONTROL_UNSAFE`, `CONTROL_UNREACHABLE`, or {@link RemoteError} for a failed operation.
 */
export async function callKernel(path: string, request: ControlRequest, timeoutMs: number): Promise<unknown> {
  await checkPrivateDir(dirname(path), false);
  await checkPrivateSocket(path);
  return requestControl(path, request, timeoutMs);
}

/** The request itself, without the checks (the server uses it to tell a live socket from a stale one). */
export function requestControl(path: string, request: ControlRequest, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    let buffer = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ControlError("CONTROL_UNREACHABLE", `the kernel at ${path} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_LINE) socket.destroy(new Error("answer too large"));
    });
    socket.on("error", (cause: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const stale = cause.code === "ECONNREFUSED" || cause.code === "ENOENT";
      reject(
        new ControlError(
          "CONTROL_UNREACHABLE",
          stale
            ? `no kernel answers at ${path} (a stale socket: the kernel was killed)`
            : `cannot reach the kernel at ${path}: ${cause.message}`,
          { cause },
        ),
      );
    });
    socket.on("end", () => {
      clearTimeout(timer);
      let response: ControlResponse;
      try {
        response = JSON.parse(buffer.trim()) as ControlResponse;
      } catch (cause) {
        reject(
          new ControlError("CONTROL_FAILED", `the kernel at ${path} answered something that is not JSON`, { cause }),
        );
        return;
      }
      if (response.ok) resolve(response.data);
      else reject(new RemoteError(response.error.code, response.error.message, response.error.stack));
    });
  });
}
