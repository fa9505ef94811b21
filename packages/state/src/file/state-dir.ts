import type { Stats } from "node:fs";
import { lstat, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TEMP_FILE_PATTERN, tempFilesInFlight } from "./durable-write.ts";
import { StateError, errnoOf } from "../errors.ts";
import { describeThrown, makeDirs } from "@mk/common";

/**
 * Creates the state directory (0700) if needed and refuses one an attacker could
 * tamper with, as OpenSSH's StrictModes does for `~/.ssh`: it must be a real
 * directory (not a symlink), not writable by group or others, and owned by us
 * (the owner check is skipped as root, who may legitimately use any directory).
 * @returns the directory's `lstat` (its `dev` and `ino` identify it).
 * @throws StateError `UNSAFE_DIR` or `STATE_IO`.
 */
export async function prepareStateDir(dir: string): Promise<Stats> {
  try {
    await makeDirs(dir, 0o700);
  } catch (cause) {
    const errno = errnoOf(cause);
    // EEXIST: something that is not a directory is there; lstat below explains what.
    if (errno !== "EEXIST") {
      throw new StateError("STATE_IO", `cannot create state directory ${dir}: ${errno ?? describeThrown(cause)}`, {
        path: dir,
        cause,
      });
    }
  }
  const stats = await lstat(dir).catch((cause: unknown) => {
    throw new StateError(
      "STATE_IO",
      `cannot inspect state directory ${dir}: ${errnoOf(cause) ?? describeThrown(cause)}`,
      {
        path: dir,
        cause,
      },
    );
  });
  const unsafe = (reason: string): StateError =>
    new StateError("UNSAFE_DIR", `refusing state directory ${dir}: ${reason}`, { path: dir });
  if (stats.isSymbolicLink()) throw unsafe("it is a symbolic link; pass the real path");
  if (!stats.isDirectory()) throw unsafe("it is not a directory");
  if (process.platform !== "win32") {
    if ((stats.mode & 0o022) !== 0) {
      throw unsafe(`it is writable by group or others (mode ${(stats.mode & 0o777).toString(8)}); chmod 700 it`);
    }
    const uid = process.getuid?.();
    if (uid !== undefined && uid !== 0 && stats.uid !== uid) {
      throw unsafe(`it is owned by uid ${stats.uid}, not by this process (uid ${uid})`);
    }
  }
  return stats;
}

/**
 * Removes temp files a crashed writer left behind. They are never parsed as
 * state (their names start with a dot, which no service name does), so this only
 * reclaims space. A temp file of another live process is left alone (it may be
 * mid-save); one carrying our own pid is removed unless we are writing it now
 * (containers often reuse the same pid across restarts).
 * @returns how many files were removed.
 */
export async function removeStaleTempFiles(dir: string): Promise<number> {
  let removed = 0;
  for (const entry of await readdir(dir)) {
    const match = TEMP_FILE_PATTERN.exec(entry);
    if (match === null) continue;
    const path = join(dir, entry);
    const pid = Number(match[2]);
    if (pid === process.pid ? tempFilesInFlight.has(path) : isAlive(pid)) continue;
    try {
      await unlink(path);
      removed++;
    } catch (cause) {
      // Another cleaner (a second store on this dir) got there first: the goal is met.
      if (errnoOf(cause) !== "ENOENT") throw cause;
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (cause) {
    // EPERM: it exists but belongs to someone else.
    return errnoOf(cause) === "EPERM";
  }
}
