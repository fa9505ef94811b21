import type { StoredMark } from "../save-conditions.ts";
import { StateError } from "../errors.ts";
import { KeyedQueue } from "./keyed-queue.ts";

/** What this process knows of one name's file. */
export interface KnownFile {
  /** `null`: no file. */
  readonly mark: StoredMark | null;
  /** {@link fileIdOf} of the file when it was read or written; `null`: no file. */
  readonly id: string | null;
}

/** Identity of a file version: a replaced, rewritten or restored file gets another one. */
export function fileIdOf(stats: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/**
 * What every `FileStateStore` of one process shares about one state directory: one
 * queue per service name, so a compare-and-set check and its write are one step even
 * across store instances, and what this process last read or wrote per name.
 */
export interface DirShare {
  /** The directory's identity: `<dev>:<ino>`, so two paths to one directory share. */
  readonly key: string;
  readonly queue: KeyedQueue;
  /**
   * Generation and epoch of the file per name, as this process last read or wrote it,
   * with the file's identity then. A save trusts a mark only while `lstat` still shows
   * that identity (anything else, such as a file put back or the directory recreated,
   * makes it read the file); absent while unknown.
   */
  readonly marks: Map<string, KnownFile>;
  /** Open store instances using this share. */
  users: number;
  /** Releases the directory lock. */
  readonly release: (() => Promise<void>) | undefined;
  /** Set when the last user left: the lock is released and a new share must be made. */
  left: boolean;
}

// Kept on globalThis so two copies of this module in one process (a bundled copy, a
// test runner loading sources beside dist/) still share one registry and one lock.
const REGISTRY = Symbol.for("@mk/state:file-dirs");

interface Entry {
  readonly pending: Promise<DirShare>;
  share: DirShare | undefined;
}

interface Registry {
  readonly shares: Map<string, Entry>;
  /** Releases in progress per directory: a new share waits for them before it locks. */
  readonly releasing: Map<string, Promise<void>>;
}

function registry(): Registry {
  const holder = globalThis as { [REGISTRY]?: Registry };
  return (holder[REGISTRY] ??= { shares: new Map(), releasing: new Map() });
}

/**
 * Joins the share of directory `key`, creating it with `lock` (which takes the directory
 * lock and returns its release) when no open store of this process uses the directory.
 * Concurrent joins wait for one `lock` call. A failed `lock` leaves nothing registered.
 */
export async function joinShare(
  key: string,
  lock: () => Promise<(() => Promise<void>) | undefined>,
): Promise<DirShare> {
  const { shares, releasing } = registry();
  // A share released while we waited for it is gone: join (or create) the next one. Bounded:
  // each round needs another store of this process to open and close the directory meanwhile.
  for (let round = 0; round < 100; round++) {
    let entry = shares.get(key);
    if (entry === undefined) {
      const created: Entry = {
        // Regression: a store opened while the last one of the process was closing took the
        // lock (our own claim was still there), then the close removed the claim under it.
        pending: (releasing.get(key) ?? Promise.resolve()).then(lock).then((release) => {
          const share: DirShare = { key, queue: new KeyedQueue(), marks: new Map(), users: 0, release, left: false };
          created.share = share;
          return share;
        }),
        share: undefined,
      };
      entry = created;
      shares.set(key, created);
      created.pending.catch(() => {
        if (shares.get(key) === created) shares.delete(key);
      });
    }
    const share = await entry.pending;
    if (!share.left) {
      share.users += 1;
      return share;
    }
  }
  throw new StateError(
    "STATE_IO",
    `state directory ${key}: opened and closed 100 times while this store waited to open it`,
  );
}

/** One user fewer; the last one unregisters the share and releases the lock. */
export async function leaveShare(share: DirShare): Promise<void> {
  share.users -= 1;
  if (share.users > 0) return;
  share.left = true;
  const { shares, releasing } = registry();
  if (shares.get(share.key)?.share === share) shares.delete(share.key);
  const released = (releasing.get(share.key) ?? Promise.resolve()).then(() => share.release?.());
  const settled = released.then(
    () => undefined,
    () => undefined,
  );
  releasing.set(share.key, settled);
  void settled.then(() => {
    if (releasing.get(share.key) === settled) releasing.delete(share.key);
  });
  await released;
}
