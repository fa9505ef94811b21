import type { Stats } from "node:fs";
import { StateError, errnoOf } from "../errors.ts";
import { describeThrown } from "@mk/common";
import { READ_FLAGS, nodeFs, type FsOps } from "./fs-ops.ts";

/**
 * Reads a state file without trusting what sits at its path: `O_NOFOLLOW` (a symlink
 * fails with ELOOP instead of reading its target), `O_NONBLOCK` (a FIFO cannot hang
 * the open), `fstat().isFile()` on the opened descriptor (no check-then-open race),
 * and the size cap checked before any byte is read and again while reading (the file
 * may grow; `/dev/zero` never ends).
 * `onStats` gets the `fstat` of the opened file (what was read, not what the path shows later).
 * @returns the bytes, or `undefined` when nothing exists at `path`.
 * @throws StateError `NOT_A_FILE`, `STATE_TOO_LARGE` or `STATE_IO`.
 */
export async function readStateFile(
  path: string,
  maxBytes: number,
  service: string,
  ops: FsOps = nodeFs,
  onStats?: (stats: Stats) => void,
): Promise<Uint8Array | undefined> {
  let fd: number;
  try {
    fd = await ops.open(path, READ_FLAGS);
  } catch (cause) {
    const errno = errnoOf(cause);
    if (errno === "ENOENT") return undefined;
    // ELOOP on Linux, EMLINK on FreeBSD, EFTYPE on NetBSD: the path is a symlink. ENXIO: a socket.
    if (errno === "ELOOP" || errno === "EMLINK" || errno === "EFTYPE" || errno === "ENXIO") {
      throw notAFile(path, service, errno === "ENXIO" ? "a socket or device" : "a symbolic link", cause);
    }
    throw new StateError("STATE_IO", `loading state of "${service}" failed: open: ${errno ?? describeThrown(cause)}`, {
      service,
      path,
      cause,
    });
  }
  try {
    const stats = await ops.fstat(fd);
    onStats?.(stats);
    if (!stats.isFile()) throw notAFile(path, service, kindOf(stats));
    if (stats.size > maxBytes) throw tooLarge(path, service, maxBytes, stats.size);
    // One byte of slack detects a file that grew past the cap after fstat.
    const buffer = new Uint8Array(Math.min(stats.size + 1, maxBytes + 1));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) throw tooLarge(path, service, maxBytes, length);
        break;
      }
      const n = await ops.read(fd, buffer, length, buffer.length - length);
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) throw tooLarge(path, service, maxBytes, length);
    return length === buffer.length ? buffer : buffer.subarray(0, length);
  } catch (cause) {
    if (cause instanceof StateError) throw cause;
    throw new StateError(
      "STATE_IO",
      `loading state of "${service}" failed: read: ${errnoOf(cause) ?? describeThrown(cause)}`,
      {
        service,
        path,
        cause,
      },
    );
  } finally {
    await ops.close(fd).catch(() => {
      // Read-only descriptor: a failed close loses nothing, and the read's outcome stands.
    });
  }
}

function kindOf(stats: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a regular file";
}

function notAFile(path: string, service: string, what: string, cause?: unknown): StateError {
  return new StateError(
    "NOT_A_FILE",
    `state of "${service}" at ${path} is ${what}, not a regular file; refusing to read it`,
    { service, path, cause },
  );
}

function tooLarge(path: string, service: string, maxBytes: number, size: number): StateError {
  return new StateError(
    "STATE_TOO_LARGE",
    `state of "${service}" at ${path} is too large: ${size} bytes, over the ${maxBytes}-byte cap (option maxBytes)`,
    { service, path },
  );
}
