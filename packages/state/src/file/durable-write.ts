import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { StateError, errnoOf } from "../errors.ts";
import { describeThrown } from "@mk/common";
import { DIR_FLAGS, TEMP_FLAGS, nodeFs, type FsOps } from "./fs-ops.ts";

/** `.<file>.<pid>.<16 hex>.tmp`: hidden (a service name never starts with a dot) and tagged with its writer. */
export const TEMP_FILE_PATTERN: RegExp = /^\.([A-Za-z0-9][A-Za-z0-9._-]{0,127}\.state)\.(\d+)\.[0-9a-f]{16}\.tmp$/;

/** Temp files this process is writing right now, so stale-temp cleanup never removes a live one. */
export const tempFilesInFlight: Set<string> = new Set();

/**
 * Windows cannot open a directory for fsync (NTFS journals renames itself), so there
 * the directory step is skipped rather than failing every save.
 */
const CAN_SYNC_DIR = process.platform !== "win32";

/** fsync a directory so a rename (or unlink) in it survives power loss (fsync(2): the entry needs its own fsync). */
export async function fsyncDir(dir: string, ops: FsOps = nodeFs): Promise<void> {
  if (!CAN_SYNC_DIR) return;
  const fd = await ops.open(dir, DIR_FLAGS);
  try {
    await ops.fsync(fd);
  } finally {
    await ops.close(fd);
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Starts an operation now and remembers its outcome, so it can run in parallel and never go unhandled. */
function start<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/**
 * Replaces `<dir>/<fileName>` with the bytes `produce` returns, so that after a crash
 * at any moment the file is either the old or the new complete version, and the new
 * one is durable when the promise resolves: PostgreSQL's `durable_rename`, RocksDB's
 * `SetCurrentFile`.
 *
 * Temp file in the same directory (so rename never crosses file systems), created
 * `O_CREAT|O_EXCL|O_NOFOLLOW` mode 0600 (never follows or reuses a planted path),
 * write-all, fsync, close, (directory opened), rename, fsync(dir). Any failure before
 * the rename unlinks the temp file and rejects with the old file in place; a failed fsync is terminal for this attempt and is never followed by a
 * rename (fsyncgate: a retried fsync can "succeed" on pages the kernel dropped).
 *
 * The temp file and the directory are opened before `produce` runs, so both opens
 * proceed on libuv's thread pool while the bytes are encrypted on this thread.
 *
 * @throws whatever `produce` throws, unchanged; otherwise StateError `STATE_IO` naming
 * the step that failed, with the errno error as `cause`.
 */
export async function writeFileDurably(
  dir: string,
  fileName: string,
  produce: Uint8Array | (() => Promise<Uint8Array>),
  service: string,
  ops: FsOps = nodeFs,
): Promise<void> {
  const finalPath = join(dir, fileName);
  const tempPath = join(dir, `.${fileName}.${process.pid}.${randomBytes(8).toString("hex")}.tmp`);
  tempFilesInFlight.add(tempPath);
  const tempOpen = start(ops.open(tempPath, TEMP_FLAGS, 0o600));
  const dirOpen = CAN_SYNC_DIR ? start(ops.open(dir, DIR_FLAGS)) : undefined;
  let step = "create temp file";
  let tempClosed = false;
  let renamed = false;
  let data: Uint8Array;
  try {
    data = typeof produce === "function" ? await produce() : produce;
  } catch (error) {
    await cleanUp();
    throw error;
  }
  try {
    const opened = await tempOpen;
    if (!opened.ok) throw opened.error;
    const fd = opened.value;
    step = "write temp file";
    for (let offset = 0; offset < data.length;) {
      offset += await ops.write(fd, data, offset, data.length - offset);
    }
    step = "fsync temp file";
    await ops.fsync(fd);
    step = "close temp file";
    tempClosed = true; // even if close fails: a second close could hit a reused fd
    await ops.close(fd);
    // The directory must be open before the rename: once the new file is in place, a
    // failure to open the directory (EMFILE, EIO) could only be reported, not undone.
    step = "open the state directory";
    const dirOpened = await dirOpen;
    if (dirOpened !== undefined && !dirOpened.ok) throw dirOpened.error;
    step = "rename temp file over the state file";
    await ops.rename(tempPath, finalPath);
    renamed = true;
    if (dirOpened === undefined) return;
    step = "fsync the state directory";
    const dirFd = dirOpened.value;
    try {
      await ops.fsync(dirFd);
    } finally {
      // The save is durable once the directory fsync returns; closing a read-only
      // directory descriptor cannot undo that, so the caller need not wait for it.
      void ops.close(dirFd).catch(() => undefined);
    }
  } catch (cause) {
    await cleanUp();
    throw new StateError(
      "STATE_IO",
      `saving state of "${service}" failed: ${step}: ${errnoOf(cause) ?? describeThrown(cause)}` +
        (renamed ? " (the new file is in place but may not survive a power loss)" : "; the previous file is intact"),
      { service, path: finalPath, cause },
    );
  } finally {
    tempFilesInFlight.delete(tempPath);
  }

  async function cleanUp(): Promise<void> {
    const opened = await tempOpen;
    if (opened.ok && !tempClosed) {
      tempClosed = true;
      await ops.close(opened.value).catch(() => {
        // The save already failed; that error is the one to report, and the fd is gone either way.
      });
    }
    // Only remove what we created: after EEXIST the path belongs to someone else.
    if (opened.ok && !renamed) await ops.unlink(tempPath).catch(() => undefined);
    const dirOpened = await dirOpen;
    if (dirOpened?.ok === true && !renamed) await ops.close(dirOpened.value).catch(() => undefined);
    tempFilesInFlight.delete(tempPath);
  }
}
