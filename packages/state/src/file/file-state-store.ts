import { lstat, readdir, rename, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Crypter } from "@mk/crypto";
import { decodeDocument, encodeDocument } from "./document.ts";
import { fsyncDir, writeFileDurably } from "./durable-write.ts";
import { DEFAULT_MAX_DEPTH, decodeState, encodeState } from "./encoding.ts";
import { StateError, errnoOf } from "./errors.ts";
import { KeyedQueue } from "./keyed-queue.ts";
import { assertValidName, STATE_NAME_PATTERN } from "./names.ts";
import { DEFAULT_MAX_BYTES, checkMeta, positiveInteger } from "./options.ts";
import { readStateFile } from "./safe-read.ts";
import { prepareStateDir, removeStaleTempFiles } from "./state-dir.ts";
import type { LoadedState, SaveMeta, StateStore } from "./state-store.ts";

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
 * One store (one process) should write a directory at a time.
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
  readonly #queue = new KeyedQueue();
  /** Highest generation seen or written per service by this instance (rollback detection). */
  readonly #generations = new Map<string, number>();
  #ready: Promise<void> | undefined;

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
   * and renamed into place and the directory fsynced.
   * @throws StateError `INVALID_NAME`, `INVALID_ARGUMENT`, `STATE_ENCODE_FAILED`,
   * `STATE_ENCRYPT_FAILED`, `STATE_TOO_LARGE`, `UNSAFE_DIR` or `STATE_IO`
   * (the previous file stays intact).
   */
  async save(name: string, state: unknown, meta?: SaveMeta): Promise<void> {
    assertValidName(name);
    const version = checkMeta(meta, name);
    const stateJson = encodeState(state, this.#maxDepth, name);
    await this.#prepare();
    return this.#queue.run(name, async () => {
      const generation = Math.max((this.#generations.get(name) ?? 0) + 1, Date.now());
      await writeFileDurably(
        this.dir,
        name + STATE_SUFFIX,
        () => this.#seal(name, stateJson, generation, version),
        name,
      );
      this.#generations.set(name, generation);
    });
  }

  async #seal(name: string, stateJson: string, generation: number, version: string | undefined): Promise<Uint8Array> {
    const plaintext = encoder.encode(encodeDocument(name, stateJson, generation, version));
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
   * `UNSAFE_DIR` or `STATE_IO`.
   */
  async load(name: string): Promise<LoadedState | undefined> {
    assertValidName(name);
    await this.#prepare();
    return this.#queue.run(name, async () => {
      try {
        return await this.#load(name);
      } catch (error) {
        if (this.#quarantine && error instanceof StateError && QUARANTINABLE.has(error.code)) {
          const to = await this.#moveAside(name);
          if (to !== undefined) {
            error.quarantinedTo = to;
            error.message += `; quarantined: moved aside to ${to}`;
          }
        }
        throw error;
      }
    });
  }

  async #load(name: string): Promise<LoadedState | undefined> {
    const path = this.#pathOf(name);
    const bytes = await readStateFile(path, this.#maxBytes, name);
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
    const loaded: LoadedState & { generation: number } = legacy
      ? { state: withPath(() => decodeState(text, this.#maxDepth, name), path), generation: 0, legacy: true }
      : decodeDocument(text, name, this.#maxDepth, path);
    const seen = this.#generations.get(name);
    if (seen !== undefined && loaded.generation < seen) {
      throw new StateError(
        "ROLLBACK",
        `state of "${name}" at ${path} is older than one this store already saw: generation ${loaded.generation} < ${seen}` +
          " (an older copy was put back)",
        { service: name, path },
      );
    }
    this.#generations.set(name, Math.max(seen ?? 0, loaded.generation));
    if (!legacy && hasNeedsRewrap(this.#crypter) && this.#crypter.needsRewrap(bytes)) loaded.needsRewrap = true;
    return loaded;
  }

  /**
   * `true` when something exists at `<dir>/<name>.state` (even a file `load` would refuse,
   * so `exists` is `true` exactly when `load` does not resolve `undefined`).
   * @throws StateError `INVALID_NAME`, `UNSAFE_DIR` or `STATE_IO`.
   */
  async exists(name: string): Promise<boolean> {
    assertValidName(name);
    await this.#prepare();
    return this.#queue.run(name, async () => {
      try {
        await lstat(this.#pathOf(name));
        return true;
      } catch (cause) {
        if (errnoOf(cause) === "ENOENT") return false;
        throw ioError(name, this.#pathOf(name), "lstat", cause);
      }
    });
  }

  /**
   * Removes the state of `name` (durably: the directory is fsynced). No-op when there is none.
   * @throws StateError `INVALID_NAME`, `UNSAFE_DIR` or `STATE_IO`.
   */
  async delete(name: string): Promise<void> {
    assertValidName(name);
    await this.#prepare();
    return this.#queue.run(name, async () => {
      const path = this.#pathOf(name);
      try {
        await unlink(path);
      } catch (cause) {
        if (errnoOf(cause) === "ENOENT") return;
        throw ioError(name, path, "unlink", cause);
      }
      await fsyncDir(this.dir).catch((cause: unknown) => {
        throw ioError(name, this.dir, "fsync the state directory", cause);
      });
    });
  }

  /**
   * Names with a state file, sorted. Temp and quarantined files are not listed.
   * @throws StateError `UNSAFE_DIR` or `STATE_IO`.
   */
  async list(): Promise<string[]> {
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
   * @throws StateError `INVALID_NAME`, `UNSAFE_DIR` or `STATE_IO`.
   */
  async quarantine(name: string): Promise<string | undefined> {
    assertValidName(name);
    await this.#prepare();
    return this.#queue.run(name, () => this.#moveAside(name));
  }

  async #moveAside(name: string): Promise<string | undefined> {
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
      try {
        await rename(from, to);
      } catch (cause) {
        if (errnoOf(cause) === "ENOENT") return undefined;
        throw ioError(name, from, "rename aside", cause);
      }
      await fsyncDir(this.dir).catch((cause: unknown) => {
        throw ioError(name, this.dir, "fsync the state directory", cause);
      });
      return to;
    }
  }

  #pathOf(name: string): string {
    return join(this.dir, name + STATE_SUFFIX);
  }

  /** Checks the directory and removes stale temp files once; a failure is retried on the next call. */
  #prepare(): Promise<void> {
    this.#ready ??= (async () => {
      await prepareStateDir(this.dir);
      try {
        await removeStaleTempFiles(this.dir);
      } catch (cause) {
        throw new StateError("STATE_IO", `removing stale temp files in ${this.dir} failed: ${messageOf(cause)}`, {
          path: this.dir,
          cause,
        });
      }
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
  return errnoOf(error) ?? (error instanceof Error ? error.message : String(error));
}

function decryptFailed(name: string, path: string, code: string | undefined, cause: unknown, note = ""): StateError {
  const reason = cause instanceof Error ? cause.message : String(cause);
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
