import { constants, existsSync } from "node:fs";
import { open, readFile, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { StateError, StateLockedError, errnoOf } from "../errors.ts";
import { describeThrown } from "@mk/common";

/**
 * The exclusive lock of a state directory, between processes.
 *
 * Node has no flock(2), so the lock is made of files, with no step that needs a
 * timeout or a trusted clock. Each process that wants the directory creates its own
 * claim `.lock.<pid>.<start>` (`start`: the process's start time from /proc, so a
 * reused pid never passes for a dead holder) with O_EXCL, then lists the directory.
 * It holds the lock when no other claim of a live process is there; else it removes
 * its claim and backs off. A holder's claim stays until it releases, so of two
 * processes the later lister always sees the earlier claim: never two live holders.
 * Claims of dead processes (killed, even by SIGKILL) are ignored and removed by
 * whoever sees them, so a stale lock is reclaimed at once, by exactly one of any
 * number of racing processes. A holder also creates `<claim>.held`, which only tells
 * others to give up at once rather than retry.
 *
 * Liveness comes from /proc on Linux (a zombie counts as dead); elsewhere from
 * `kill(pid, 0)`, where a reused pid can make a dead holder look alive (the lock then
 * refuses, never admits two). Processes must share one pid namespace (one host, one
 * container): the lock cannot see processes elsewhere.
 */

/** `.lock.<pid>.<start>` and `.lock.<pid>.<start>.held`; hidden, so never a service name. */
export const LOCK_FILE_PATTERN: RegExp = /^\.lock\.(\d+)\.([0-9]+)(\.held)?$/;

/**
 * Attempts while only other contenders (no holder) are seen. Each backs off a random
 * while that grows with the attempt (to 50 ms), so racers on a loaded machine spread
 * out; giving up takes a few seconds of contention with no winner, which needs a
 * steady stream of new contenders.
 */
const MAX_ATTEMPTS = 100;

interface Claim {
  pid: number;
  start: string;
}

/**
 * The start time of `pid` (clock ticks since boot, /proc/<pid>/stat field 22); `null`
 * when the process does not exist or is a zombie; `"0"` where /proc is not available.
 */
export async function startTimeOf(pid: number): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch (cause) {
    if (errnoOf(cause) !== "ENOENT") throw cause;
    return procAvailable() ? null : "0";
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')': split after the last one.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  if (state === "Z" || state === "X" || state === "x") return null;
  const start = fields[19];
  return start !== undefined && /^\d+$/.test(start) ? start : "0";
}

/** Whether /proc is mounted (our own entry exists): asked once per process. */
let procMounted: boolean | undefined;
function procAvailable(): boolean {
  procMounted ??= existsSync(`/proc/${process.pid}/stat`);
  return procMounted;
}

/** Whether the process that made `claim` still runs. */
async function isAlive(claim: Claim): Promise<boolean> {
  if (claim.start !== "0") return (await startTimeOf(claim.pid)) === claim.start;
  try {
    process.kill(claim.pid, 0);
    return true;
  } catch (cause) {
    // EPERM: it exists but belongs to someone else.
    return errnoOf(cause) === "EPERM";
  }
}

const CREATE_FLAGS = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | (constants.O_NOFOLLOW ?? 0);

/** Creates an empty file; `false` when it already exists. */
async function createEmpty(path: string): Promise<boolean> {
  try {
    const handle = await open(path, CREATE_FLAGS, 0o600);
    await handle.close();
    return true;
  } catch (cause) {
    if (errnoOf(cause) === "EEXIST") return false;
    throw cause;
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (cause) {
    // Another process removed this dead claim first, or our own was never made: the goal is met.
    if (errnoOf(cause) !== "ENOENT") throw cause;
  }
}

function lockError(dir: string, step: string, cause: unknown): StateError {
  return new StateError(
    "STATE_IO",
    `locking state directory ${dir} failed: ${step}: ${errnoOf(cause) ?? describeThrown(cause)}`,
    {
      path: dir,
      cause,
    },
  );
}

/**
 * Takes the lock of `dir` for this process.
 * @returns the release: removes this process's lock files (idempotent).
 * @throws StateLockedError (`STATE_LOCKED`) naming the holder's pid; StateError `STATE_IO`.
 */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const start = (await startTimeOf(process.pid).catch(() => "0")) ?? "0";
  const own = `.lock.${process.pid}.${start}`;
  const claimPath = join(dir, own);
  const heldPath = join(dir, `${own}.held`);
  let seen: Claim | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      // EEXIST: a claim with our pid and start time can only be ours (left by an earlier failed release).
      await createEmpty(claimPath);
    } catch (cause) {
      throw lockError(dir, "create the claim", cause);
    }
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (cause) {
      await removeIfPresent(claimPath).catch(() => undefined);
      throw lockError(dir, "list the directory", cause);
    }
    const others = new Map<string, Claim & { held: boolean }>();
    for (const entry of entries) {
      const match = LOCK_FILE_PATTERN.exec(entry);
      if (match === null) continue;
      const key = `${match[1]}.${match[2]}`;
      if (`.lock.${key}` === own) continue;
      const other = others.get(key) ?? { pid: Number(match[1]), start: match[2] ?? "0", held: false };
      other.held ||= match[3] !== undefined;
      others.set(key, other);
    }
    let holder: Claim | undefined;
    let contender: Claim | undefined;
    for (const [key, other] of others) {
      if (await isAlive(other)) {
        if (other.held) holder ??= other;
        else contender ??= other;
        continue;
      }
      // Dead: its claim can never become live again, so removing it is always safe.
      await removeIfPresent(join(dir, `.lock.${key}.held`)).catch(() => undefined);
      await removeIfPresent(join(dir, `.lock.${key}`)).catch(() => undefined);
    }
    if (holder === undefined && contender === undefined) {
      try {
        await createEmpty(heldPath);
      } catch (cause) {
        await removeIfPresent(claimPath).catch(() => undefined);
        throw lockError(dir, "mark the lock held", cause);
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await removeIfPresent(heldPath);
        await removeIfPresent(claimPath);
      };
    }
    await removeIfPresent(claimPath).catch(() => undefined);
    if (holder !== undefined) throw new StateLockedError(dir, holder.pid);
    seen = contender;
    // Both of us may have backed off: wait a random while so one goes first next time.
    await sleep(2 + Math.random() * Math.min(48, 8 + attempt));
  }
  throw new StateLockedError(dir, seen?.pid ?? 0, " (it was taking the lock at the same time)");
}
