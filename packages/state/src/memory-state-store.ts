import { DEFAULT_MAX_DEPTH, decodeState, encodeState } from "./encoding.ts";
import { StateError } from "./errors.ts";
import { assertValidName } from "./names.ts";
import { DEFAULT_MAX_BYTES, checkMeta, positiveInteger } from "./options.ts";
import { checkSaveConditions, nextGeneration } from "./save-conditions.ts";
import type { LoadedState, SaveMeta, StateStore } from "./state-store.ts";

/** Options of {@link MemoryStateStore}; the same limits as the file store, so both behave alike. */
export interface MemoryStateStoreOptions {
  /**
   * Largest encoded state (UTF-8 JSON bytes) accepted by `save`.
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * Deepest nesting of objects/arrays accepted on save.
   * @default 256
   */
  maxDepth?: number;
  /**
   * Another memory store whose stored states this one shares, as two processes share
   * one database: for tests of several kernels (or nodes) on one store. Each instance
   * has its own limits and its own `close()`.
   * @default undefined (a new, empty space)
   */
  sharedWith?: MemoryStateStore;
}

interface Entry {
  json: string;
  version: string | undefined;
  generation: number;
  epoch: number;
}

/** The stored states, shared by the instances made with `sharedWith`. */
type Space = Map<string, Entry>;

const spaces = new WeakMap<MemoryStateStore, Space>();

/**
 * A {@link StateStore} that keeps states in memory: for tests and ephemeral kernels.
 * It applies the file store's rules (name validation, the encoding rules, the size
 * cap, compare-and-set and fencing) and stores the encoded JSON, so `load` always
 * returns a fresh deep copy and a caller can never mutate what is stored.
 */
export class MemoryStateStore implements StateStore {
  readonly #entries: Space;
  readonly #maxBytes: number;
  readonly #maxDepth: number;
  #closed = false;

  /** @throws StateError `INVALID_ARGUMENT` for a bad option. */
  constructor(options: MemoryStateStoreOptions = {}) {
    this.#maxBytes = positiveInteger(options.maxBytes, "maxBytes", DEFAULT_MAX_BYTES);
    this.#maxDepth = positiveInteger(options.maxDepth, "maxDepth", DEFAULT_MAX_DEPTH);
    const shared = options.sharedWith;
    if (shared !== undefined) {
      const space = shared instanceof MemoryStateStore ? spaces.get(shared) : undefined;
      if (space === undefined) {
        throw new StateError("INVALID_ARGUMENT", "option sharedWith: expected a MemoryStateStore");
      }
      this.#entries = space;
    } else {
      this.#entries = new Map();
    }
    spaces.set(this, this.#entries);
  }

  /**
   * Stores a copy of `state`; with `meta.epoch` / `meta.ifGeneration`, only if the
   * fencing and compare-and-set checks pass (checked and written in one step).
   * @throws StateError `INVALID_NAME`, `INVALID_ARGUMENT`, `STATE_ENCODE_FAILED`,
   * `STATE_TOO_LARGE`, `STATE_FENCED`, `STATE_CONFLICT` or `STATE_CLOSED`.
   */
  async save(name: string, state: unknown, meta?: SaveMeta): Promise<void> {
    this.#assertOpen();
    assertValidName(name);
    const checked = checkMeta(meta, name);
    const json = encodeState(state, this.#maxDepth, name);
    // UTF-8 length without allocating: at most 3 bytes per UTF-16 unit, so only measure when it might matter.
    if (json.length * 3 > this.#maxBytes && new TextEncoder().encode(json).length > this.#maxBytes) {
      throw new StateError(
        "STATE_TOO_LARGE",
        `state of "${name}" is too large: over the ${this.#maxBytes}-byte cap (option maxBytes)`,
        { service: name },
      );
    }
    // Synchronous from here on: the check and the write are one step for every instance sharing the space.
    const stored = this.#entries.get(name);
    const epoch = checkSaveConditions(name, checked, stored);
    this.#entries.set(name, {
      json,
      version: checked.version,
      generation: nextGeneration(stored?.generation ?? 0),
      epoch,
    });
  }

  /** @throws StateError `INVALID_NAME` or `STATE_CLOSED`. */
  async load(name: string): Promise<LoadedState | undefined> {
    this.#assertOpen();
    assertValidName(name);
    const entry = this.#entries.get(name);
    if (entry === undefined) return undefined;
    const state = decodeState(entry.json, this.#maxDepth, name);
    const loaded: LoadedState = { state, generation: entry.generation, epoch: entry.epoch };
    if (entry.version !== undefined) loaded.version = entry.version;
    return loaded;
  }

  /** @throws StateError `INVALID_NAME` or `STATE_CLOSED`. */
  async exists(name: string): Promise<boolean> {
    this.#assertOpen();
    assertValidName(name);
    return this.#entries.has(name);
  }

  /** @throws StateError `INVALID_NAME` or `STATE_CLOSED`. */
  async delete(name: string): Promise<void> {
    this.#assertOpen();
    assertValidName(name);
    this.#entries.delete(name);
  }

  /** @throws StateError `STATE_CLOSED`. */
  async list(): Promise<string[]> {
    this.#assertOpen();
    return [...this.#entries.keys()].sort();
  }

  /** Marks this instance closed (the states stay for instances sharing them). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StateError("STATE_CLOSED", "this MemoryStateStore was closed");
  }
}
