import type { Stats } from "node:fs";
import { lstat, readdir, rename, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Crypter } from "@mk/crypto";
import { decodeDocument, encodeDocument } from "./document.ts";
import { fsyncDir, writeFileDurably } from "./durable-write.ts";
import { DEFAULT_MAX_DEPTH, decodeState, encodeState } from "../encoding.ts";
import { StateError, errnoOf } from "../errors.ts";
import { describeThrown } from "@mk/common";
import { assertValidName, STATE_NAME_PATTERN } from "../names.ts";
import { DEFAULT_MAX_BYTES, checkMeta, positiveInteger, type CheckedMeta } from "../options.ts";
import { checkSaveConditions, nextGeneration, type StoredMark } from "../save-conditions.ts";
import type { LoadedState, SaveMeta, StateStore } from "../state-store.ts";
import { lockDirectory } from "./dir-lock.ts";
import { readStateFile } from "./safe-read.ts";
import { fileIdOf, joinShare, leaveShare, type DirShare } from "./shared-dir.ts";
import { prepareStateDir, removeStaleTempFiles } from "./state-dir.ts";

/** Options of {@link FileStateStore}. */
export interface FileStateStoreOptions {
  /**
   * Also read files in the reference (Go) format, sealed by this crypter without
   * associated data (e.g. `new LegacyAesGcmCrypter(key)` from `@mk/crypto`). Used only
   * when the primary crypter says a file is not an mk envelope (`BAD_MAGIC`); the
   * next save rewrites the file in the mk format.
   * @default undefined (such a file is a `STATE_UNKNOWN_FORMAT` error)
   */
  legacy?: Crypter;
  /**
   * Largest state file read, checked before reading; a save whose sealed bytes exceed
   * it fails rather than write a file this store would refuse to read.
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * Deepest nesting of objects/arrays accepted on save and load.
   * @default 256
   */
  maxDepth?: number;
  /**
   * When `true`, a file that fails to decrypt or parse is renamed aside to
   * `<name>.state.corrupt-<timestamp>` before `load` rejects (the error's
   * `quarantinedTo` says where), so the next load starts empty. Nothing is ever
   * deleted. Off by default: a misconfigured key must not make a good file vanish.
   * @default false
   */
  quarantine?: boolean;
}

const STATE_SUFFIX = ".state";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Crypto errors the store distinguishes; typed structurally so `@mk/crypto` stays a type-only import. */
function cryptoCodeOf(error: unknown): string | undefined {
  return errnoOf(error);
}

/** Load failures the `quarantine` option moves aside: the file's content is bad, not its kind or size. */
const QUARANTINABLE = new Set(["STATE_DECRYPT_FAILED", "STATE_CORRUPT", "STATE_UNKNOWN_FORMAT"]);

interface RewrapAware {
  needsRewrap(ciphertext: Uint8Array): boolean;
}

function hasNeedsRewrap(crypter: Crypter): crypter is Crypter & RewrapAware {
  return typeof (crypter as Partial<RewrapAware>).needsRewrap === "function";
}

/**
 * A crash-safe, encrypted {@link StateStore}: one file per service, `<dir>/<name>.state`,
 * sealed by `crypter` with the service name as associated data, replaced atomically
 * and durably on every save. See the package README for the format and guarantees.
 *
 * The store locks its directory against other processes (a second live process gets
 * `STATE_LOCKED`); store instances of one process share the lock, a queue per service
 * and what they know of each file, so compare-and-set holds across them. `close()`
 * releases the lock once the last store of the process on the directory is closed.
 *
 * @example
 * ```ts
 * const store = new FileStateStore("./state", new AesGcmCrypter(key));
 * await store.save("echo", { count: 3 }, { version: "1.0.0" });
 * await store.load("echo"); // { state: { count: 3 }, version: "1.0.0", generation: … }
 * ```
 * @throws StateError `INVALID_ARGUMENT` for a bad `dir`, `crypter` or option.
 */
export class FileStateStore implements StateStore {
  /** The absolute state directory. */
  readonly dir: string;
  readonly #crypter: Crypter;
  readonly #legacy: Crypter | undefined;
  readonly #maxBytes: number;
  readonly #maxDepth: number;
  readonly #quarantine: boolean;
  /** Highest generation seen or written per service by this instance (rollback detection). */
  readonly #generations = new Map<string, number>();
  #ready: Promise<DirShare> | undefined;
  /** Operations started and not yet settled; `close()` waits for them. */
  readonly #pending = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(dir: string, crypter: Crypter, options: FileStateStoreOptions = {}) {
    if (typeof dir !== "string" || dir === "" || dir.includes("\0")) {
      throw new StateError(
        "INVALID_ARGUMENT",
        `state directory: expected a non-empty path, got ${JSON.stringify(dir)}`,
      );
    }
    if (!isCrypter(crypter)) {
      throw new StateError("INVALID_ARGUMENT", "crypter: expected an object with encrypt() and decrypt() (a Crypter)");
    }
    if (options.legacy !== undefined && !isCrypter(options.legacy)) {
      throw new StateError("INVALID_ARGUMENT", "option legacy: expected a Crypter");
    }
    this.dir = resolve(dir);
    this.#crypter = crypter;
    this.#legacy = options.legacy;
    this.#maxBytes = positiveInteger(options.maxBytes, "maxBytes", DEFAULT_MAX_BYTES);
    this.#maxDepth = positiveInteger(options.maxDepth, "maxDepth", DEFAULT_MAX_DEPTH);
    this.#quarantine = options.quarantine === true;
  }

  /**
   * Seals and durably writes `state` for `name`. The state is encoded when `save` is
   * called (later changes to the object are not saved). Saves of one name run in call
   * order, so the last call wins. When the promise resolves the file has been fsynced
   * and renamed into place and the directory fsynced. With `meta.epoch` or
   * `meta.ifGeneration` the save first checks the stored file (fencing, then
   * compare-and-set) in the same queued step as the write.
   * @throws StateError `INVALID_NAME`, `INVALID_ARGUMENT`, `STATE_ENCODE_FAILED`,
   * `STATE_ENCRYPT_FAILED`, `STATE_TOO_LARGE`, `STATE_FENCED`, `STATE_CONFLICT`, `UNSAFE_DIR`,
   * `STATE_CLOSED` or `STATE_IO` (the previous file stays intact); a conditional save also
   * rejects with the load error of a stored file it cannot read.
   */
  async save(name: string, state: unknown, meta?: SaveMeta): Promise<void> {
    this.#assertOpen();
    assertValidName(name);
    const checked = checkMeta(meta, name);
    const stateJson = encodeState(state, this.#maxDepth, name);
    return this.#track(async () => {
      const share = await this.#prepare();
      return share.queue.run(name, () => this.#save(share, name, stateJson, checked));
    });
  }

  async #save(share: DirShare, name: string, stateJson: string, meta: CheckedMeta): Promise<void> {
    const conditional = meta.epoch !== undefined || meta.ifGeneration !== undefined;
    const stored = await this.#storedMark(share, name, conditional);
    const epoch = checkSaveConditions(name, meta, stored);
    const generation = nextGeneration(Math.max(stored?.generation ?? 0, this.#generations.get(name) ?? 0));
    // Unknown until the write ends: a failure after the rename leaves either file in place.
    share.marks.delete(name);
    await writeFileDurably(
      this.dir,
      name + STATE_SUFFIX,
      () => this.#seal(name, stateJson, generation, meta.version, epoch),
      name,
    );
    this.#generations.set(name, generation);
    const id = await this.#fileId(name);
    if (id !== undefined) share.marks.set(name, { mark: { generation, epoch }, id });
  }

  /** {@link fileIdOf} of what is at the path of `name` now; `null`: nothing; `undefined`: cannot tell. */
  async #fileId(name: string): Promise<string | null | undefined> {
    try {
      return fileIdOf(await lstat(this.#pathOf(name)));
    } catch (cause) {
      return errnoOf(cause) === "ENOENT" ? null : undefined;
    }
  }

  /**
   * Generation and epoch of the stored file of `name`: what this process last read or
   * wrote, else read from the file. A file that cannot be read fails a conditional save;
   * a plain save replaces it as before (its epoch, unreadable, is lost with it).
   */
  async #storedMark(share: DirShare, name: string, strict: boolean): Promise<StoredMark | undefined> {
    const known = share.marks.get(name);
    if (known !== undefined && known.id === (await this.#fileId(name))) return known.mark ?? undefined;
    try {
      const loaded = await this.#read(share, name);
      return loaded === undefined ? undefined : { generation: loaded.generation, epoch: loaded.epoch };
    } catch (error) {
      if (strict || !(error instanceof StateError)) throw error;
      return undefined;
    }
  }

  async #seal(
    name: string,
    stateJson: string,
    generation: number,
    version: string | undefined,
    epoch: number,
  ): Promise<Uint8Array> {
    const plaintext = encoder.encode(encodeDocument(name, stateJson, generation, version, epoch));
    let sealed: Uint8Array;
    try {
      sealed = await this.#crypter.encrypt(plaintext, encoder.encode(name));
      // A crypter may seal in place; then these bytes are the ciphertext.
      if (sealed.buffer !== plaintext.buffer) plaintext.fill(0);
    } catch (cause) {
      throw new StateError("STATE_ENCRYPT_FAILED", `sealing state of "${name}" failed: ${messageOf(cause)}`, {
        service: name,
        cause,
      });
    }
    if (sealed.length > this.#maxBytes) {
      throw new StateError(
        "STATE_TOO_LARGE",
        `state of "${name}" is too large: ${sealed.length} sealed bytes, over the ${this.#maxBytes}-byte cap (option maxBytes)`,
        { service: name },
      );
    }
    return sealed;
  }

  /**
   * Reads, opens and checks the state of `name`. Never modifies or deletes the file
   * (unless the `quarantine` option is on, which only renames it aside).
   * @returns `undefined` when no file exists for `name`.
   * @throws StateError `INVALID_NAME`, `NOT_A_FILE`, `STATE_TOO_LARGE`, `STATE_UNKNOWN_FORMAT`,
   * `STATE_DECRYPT_FAILED`, `STATE_CORRUPT`, `STATE_UNSUPPORTED_VERSION`, `ROLLBACK`,
   * `UNSAFE_DIR`, `STATE_CLOSED` or `STATE_IO`.
   */
  async load(name: string): Promise<LoadedState | undefined> {
    this.#assertOpen();
    assertValidName(name);
    return this.#track(async () => {
      const share = await this.#prepare();
      return share.queue.run(name, async () => {
        try {
          return await this.#load(share, name);
        } catch (error) {
          if (this.#quarantine && error instanceof StateError && QUARANTINABLE.has(error.code)) {
            const to = await this.#moveAside(share, name);
            if (to !== undefined) {
              error.quarantinedTo = to;
              error.message += `; quarantined: moved aside to ${to}`;
            }
          }
          throw error;
        }
      });
    });
  }

  /** {@link #read}, then the rollback check of this instance. */
  async #load(share: DirShare, name: string): Promise<LoadedState | undefined> {
    const loaded = await this.#read(share, name);
    if (loaded === undefined) return undefined;
    const seen = this.#generations.get(name);
    if (seen !== undefined && loaded.generation < seen) {
      throw new StateError(
        "ROLLBACK",
        `state of "${name}" at ${this.#pathOf(name)} is older than one this store already saw: generation ${loaded.generation} < ${seen}` +
          " (an older copy was put back)",
        { service: name, path: this.#pathOf(name) },
      );
    }
    this.#generations.set(name, Math.max(seen ?? 0, loaded.generation));
    return loaded;
  }

  /** Reads, opens and checks the file of `name`, and records its generation and epoch in the share. */
  async #read(share: DirShare, name: string): Promise<(LoadedState & StoredMark) | undefined> {
    // Unknown while reading: a failed read says nothing about what is stored.
    share.marks.delete(name);
    let id: string | undefined;
    const loaded = await this.#readFile(name, (stats) => (id = fileIdOf(stats)));
    if (loaded === undefined) share.marks.set(name, { mark: null, id: null });
    else if (id !== undefined)
      share.marks.set(name, { mark: { generation: loaded.generation, epoch: loaded.epoch }, id });
    return loaded;
  }

  async #readFile(name: string, onStats: (stats: Stats) => void): Promise<(LoadedState & StoredMark) | undefined> {
    const path = this.#pathOf(name);
    const bytes = await readStateFile(path, this.#maxBytes, name, undefined, onStats);
    if (bytes === undefined) return undefined;
    let plaintext: Uint8Array;
    let legacy = false;
    try {
      plaintext = await this.#crypter.decrypt(bytes, encoder.encode(name));
    } catch (cause) {
      const code = cryptoCodeOf(cause);
      if (code !== "BAD_MAGIC") throw decryptFailed(name, path, code, cause);
      if (this.#legacy === undefined) {
        throw new StateError(
          "STATE_UNKNOWN_FORMAT",
          `state of "${name}" at ${path} is not an mk state file; if it was written by the reference (Go) ` +
            `implementation, pass options.legacy (e.g. new LegacyAesGcmCrypter(key)) to read it`,
          { service: name, path, cause },
        );
      }
      try {
        // The reference format has no associated data.
        plaintext = await this.#legacy.decrypt(bytes);
      } catch (legacyCause) {
        throw decryptFailed(name, path, cryptoCodeOf(legacyCause), legacyCause, " (read as a legacy file)");
      }
      legacy = true;
    }
    let text: string;
    try {
      text = decoder.decode(plaintext);
      // Our copy of the plaintext bytes (unless the crypter decrypted in place); the
      // strings made from them cannot be wiped (see README).
      if (plaintext.buffer !== bytes.buffer) plaintext.fill(0);
    } catch (cause) {
      throw new StateError("STATE_CORRUPT", `state of "${name}" is corrupt: not valid UTF-8`, {
        service: name,
        path,
        cause,
      });
    }
    const loaded: LoadedState & StoredMark = legacy
      ? { state: withPath(() => decodeState(text, this.#maxDepth, name), path), generation: 0, epoch: 0, legacy: true }
      : decodeDocument(text, name, this.#maxDepth, path);
    if (!legacy && hasNeedsRewrap(this.#crypter) && this.#crypter.needsRewrap(bytes)) loaded.needsRewrap = true;
    return loaded;
  }

  /**
   * `true` when something exists at `<dir>/<name>.state` (even a file `load` would refuse,
   * so `exists` is `true` exactly when `load` does not resolve `undefined`).
   * @throws StateError `INVALID_NAME`, `UNSAFE_DIR`, `STATE_CLOSED` or `STATE_IO`.
   */
  async exists(name: string): Promise<boolean> {
    this.#assertOpen();
    assertValidName(name);
    return this.#track(async () => {
      const share = await this.#prepare();
      return share.queue.run(name, async () => {
        try {
          await lstat(this.#pathOf(name));
          return true;
        } catch (cause) {
          if (errnoOf(cause) === "ENOENT") return false;
          throw ioError(name, this.#pathOf(name), "lstat", cause);
        }
      });
    });
  }

  /**
   * Removes the state of `name` (durably: the directory is fsynced). No-op when there is none.
   * The generation and epoch go with it: a later save starts afresh.
   * @throws StateError `INVALID_NAME`, `UNSAFE_DIR`, `STATE_CLOSED` or `STATE_IO`.
   */
  async delete(name: string): Promise<void> {
    this.#assertOpen();
    assertValidName(name);
    return this.#track(async () => {
      const share = await this.#prepare();
      return share.queue.run(name, async () => {
        const path = this.#pathOf(name);
        share.marks.delete(name);
        try {
          await unlink(path);
        } catch (cause) {
          if (errnoOf(cause) === "ENOENT") {
            share.marks.set(name, { mark: null, id: null });
            return;
          }
          throw ioError(name, path, "unlink", cause);
        }
        share.marks.set(name, { mark: null, id: null });
        await fsyncDir(this.dir).catch((cause: unknown) => {
          throw ioError(name, this.dir, "fsync the state directory", cause);
        });
      });
    });
  }

  /**
   * Names with a state file, sorted. Temp and quarantined files are not listed.
   * @throws StateError `UNSAFE_DIR`, `STATE_CLOSED` or `STATE_IO`.
   */
  async list(): Promise<string[]> {
    this.#assertOpen();
    return this.#track(() => this.#list());
  }

  async #list(): Promise<string[]> {
    await this.#prepare();
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (cause) {
      throw new StateError("STATE_IO", `listing state directory ${this.dir} failed: ${messageOf(cause)}`, {
        path: this.dir,
        cause,
      });
    }
    return entries
      .filter((entry) => entry.endsWith(STATE_SUFFIX))
      .map((entry) => entry.slice(0, -STATE_SUFFIX.length))
      .filter((name) => STATE_NAME_PATTERN.test(name))
      .sort();
  }

  /**
   * Renames the state file of `name` aside to `<name>.state.corrupt-<timestamp>` (never
   * deletes it) so the service can start empty while the bad file is kept for inspection.
   * @returns the new path, or `undefined` when there was no file.
   * @throws StateError `INVALID_NAME`, `UNSAFE_DIR`, `STATE_CLOSED` or `STATE_IO`.
   */
  async quarantine(name: string): Promise<string | undefined> {
    this.#assertOpen();
    assertValidName(name);
    return this.#track(async () => {
      const share = await this.#prepare();
      return share.queue.run(name, () => this.#moveAside(share, name));
    });
  }

  /**
   * Waits for every operation already started on this instance, then leaves the
   * directory (the last store of the process on it releases the directory lock).
   * Idempotent; every later call rejects with `STATE_CLOSED`.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled(this.#pending);
      const ready = this.#ready;
      this.#ready = undefined;
      const share = ready === undefined ? undefined : await ready.catch(() => undefined);
      if (share !== undefined) await leaveShare(share);
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) {
      throw new StateError("STATE_CLOSED", `this FileStateStore on ${this.dir} was closed`, { path: this.dir });
    }
  }

  /** Runs `operation`, remembered until it settles so `close()` can wait for it. */
  #track<T>(operation: () => Promise<T>): Promise<T> {
    const running = operation();
    this.#pending.add(running);
    const forget = (): void => void this.#pending.delete(running);
    running.then(forget, forget);
    return running;
  }

  async #moveAside(share: DirShare, name: string): Promise<string | undefined> {
    const from = this.#pathOf(name);
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(".", "-");
    for (let attempt = 0; ; attempt++) {
      const to = `${from}.corrupt-${stamp}${attempt === 0 ? "" : `-${attempt}`}`;
      try {
        await lstat(to);
        continue; // never overwrite an earlier quarantined file
      } catch (cause) {
        if (errnoOf(cause) !== "ENOENT") throw ioError(name, to, "lstat", cause);
      }
      share.marks.delete(name);
      try {
        await rename(from, to);
      } catch (cause) {
        if (errnoOf(cause) === "ENOENT") return undefined;
        throw ioError(name, from, "rename aside", cause);
      }
      share.marks.set(name, { mark: null, id: null });
      await fsyncDir(this.dir).catch((cause: unknown) => {
        throw ioError(name, this.dir, "fsync the state directory", cause);
      });
      return to;
    }
  }

  #pathOf(name: string): string {
    return join(this.dir, name + STATE_SUFFIX);
  }

  /**
   * Checks the directory, joins this process's share of it and removes stale temp files,
   * once; a failure is retried on the next call.
   */
  #prepare(): Promise<DirShare> {
    this.#ready ??= (async () => {
      const stats = await prepareStateDir(this.dir);
      // The first store of this process on the directory takes its lock; the others share it.
      const share = await joinShare(`${stats.dev}:${stats.ino}`, () => lockDirectory(this.dir));
      try {
        await removeStaleTempFiles(this.dir);
      } catch (cause) {
        await leaveShare(share);
        throw new StateError("STATE_IO", `removing stale temp files in ${this.dir} failed: ${messageOf(cause)}`, {
          path: this.dir,
          cause,
        });
      }
      return share;
    })();
    const ready = this.#ready;
    void ready.catch(() => {
      if (this.#ready === ready) this.#ready = undefined;
    });
    return ready;
  }
}

function isCrypter(value: unknown): value is Crypter {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Partial<Crypter>).encrypt === "function" &&
    typeof (value as Partial<Crypter>).decrypt === "function"
  );
}

function messageOf(error: unknown): string {
  return errnoOf(error) ?? describeThrown(error);
}

function decryptFailed(name: string, path: string, code: string | undefined, cause: unknown, note = ""): StateError {
  const reason = describeThrown(cause);
  return new StateError(
    "STATE_DECRYPT_FAILED",
    `state of "${name}" at ${path} cannot be opened${note}: ${code === undefined ? "" : `${code}: `}${reason}` +
      " (wrong key, a damaged file, or a file copied from another service)",
    { service: name, path, cause },
  );
}

function ioError(name: string, path: string, step: string, cause: unknown): StateError {
  return new StateError("STATE_IO", `state of "${name}": ${step} ${path} failed: ${messageOf(cause)}`, {
    service: name,
    path,
    cause,
  });
}

function withPath<T>(fn: () => T, path: string): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof StateError) {
      throw new StateError(error.code, `${error.message} (${path})`, {
        service: error.service,
        path,
        cause: error,
      });
    }
    throw error;
  }
}
