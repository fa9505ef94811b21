import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { StateError, errnoOf } from "./errors.ts";
import { DIR_FLAGS, TEMP_FLAGS, nodeFs, type FsOps } from "./fs-ops.ts";

/** `.<file>.<pid>.<16 hex>.tmp`: hidden (a service name never starts with a dot) and tagged with its writer. */
export const TEMP_FILE_PATTERN: RegExp = /^\.([A-Za-z0-9][A-Za-z0-9._-]{0,127}\.state)\.(\d+)\.[0-9a-f]{16}\.tmp$/;

/** Temp files this process is writing right now, so stale-temp cleanup never removes a live one. */
export const tempFilesInFlight: Set<string> = new Set();

/** fsync a directory so a rename (or unlink) in it survives power loss (fsync(2): the entry needs its own fsync). */
export async function fsyncDir(dir: string, ops: FsOps = nodeFs): Promise<void> {
  const fd = await ops.open(dir, DIR_FLAGS);
  try {
    await ops.fsync(fd);
  } finally {
    await ops.close(fd);
  }
}

/**
 * Replaces `<dir>/<fileName>` with `data` so that after a crash at any moment the
 * file is either the old or the new complete version, and the new one is durable
 * when the promise resolves: PostgreSQL's `durable_rename`, RocksDB's `SetCurrentFile`.
 *
 * Temp file in the same directory (so rename never crosses file systems), created
 * `O_CREAT|O_EXCL|O_NOFOLLOW` mode 0600 (never follows or reuses a planted path),
 * write-all, fsync, close, rename, fsync(dir). Any failure unlinks the temp file and
 * rejects; a failed fsync is terminal for this attempt and is never followed by a
 * rename (fsyncgate: a retried fsync can "succeed" on pages the kernel dropped).
 * @throws StateError `STATE_IO` naming the step that failed, with the errno error as `cause`.
 */
export async function writeFileDurably(
  dir: string,
  fileName: string,
  data: Uint8Array,
  service: string,
  ops: FsOps = nodeFs,
): Promise<void> {
  const finalPath = join(dir, fileName);
  const tempPath = join(dir, `.${fileName}.${process.pid}.${randomBytes(8).toString("hex")}.tmp`);
  tempFilesInFlight.add(tempPath);
  let step = "create temp file";
  let fd: number | undefined;
  let renamed = false;
  try {
    fd = await ops.open(tempPath, TEMP_FLAGS, 0o600);
    step = "write temp file";
    for (let offset = 0; offset < data.length; ) {
      offset += await ops.write(fd, data, offset, data.length - offset);
    }
    step = "fsync temp file";
    await ops.fsync(fd);
    step = "close temp file";
    const closing = fd;
    fd = undefined;
    await ops.close(closing);
    step = "rename temp file over the state file";
    await ops.rename(tempPath, finalPath);
    renamed = true;
    step = "fsync the state directory";
    await fsyncDir(dir, ops);
  } catch (cause) {
    if (fd !== undefined) {
      await ops.close(fd).catch(() => {
        // The write already failed; that error is the one to report, and the fd is gone either way.
      });
    }
    if (!renamed) await ops.unlink(tempPath).catch(() => undefined);
    throw new StateError(
      "STATE_IO",
      `saving state of "${service}" failed: ${step}: ${errnoOf(cause) ?? String(cause)}` +
        (renamed ? " (the new file is in place but may not survive a power loss)" : "; the previous file is intact"),
      { service, path: finalPath, cause },
    );
  } finally {
    tempFilesInFlight.delete(tempPath);
  }
}
