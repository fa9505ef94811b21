import { DEFAULT_MAX_DEPTH, decodeState, encodeState } from "./encoding.ts";
import { StateError } from "./errors.ts";
import { assertValidName } from "./names.ts";
import { DEFAULT_MAX_BYTES, checkMeta, positiveInteger } from "./options.ts";
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
}

interface Entry {
  json: string;
  version: string | undefined;
  generation: number;
}

/**
 * A {@link StateStore} that keeps states in memory: for tests and ephemeral kernels.
 * It applies the file store's rules (name validation, the encoding rules, the size
 * cap) and stores the encoded JSON, so `load` always returns a fresh deep copy and
 * a caller can never mutate what is stored.
 */
export class MemoryStateStore implements StateStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxBytes: number;
  readonly #maxDepth: number;

  /** @throws StateError `INVALID_ARGUMENT` for a bad option. */
  constructor(options: MemoryStateStoreOptions = {}) {
    this.#maxBytes = positiveInteger(options.maxBytes, "maxBytes", DEFAULT_MAX_BYTES);
    this.#maxDepth = positiveInteger(options.maxDepth, "maxDepth", DEFAULT_MAX_DEPTH);
  }

  /** @throws StateError `INVALID_NAME`, `INVALID_ARGUMENT`, `STATE_ENCODE_FAILED` or `STATE_TOO_LARGE`. */
  async save(name: string, state: unknown, meta?: SaveMeta): Promise<void> {
    assertValidName(name);
    const version = checkMeta(meta, name);
    const json = encodeState(state, this.#maxDepth, name);
    // UTF-8 length without allocating: at most 3 bytes per UTF-16 unit, so only measure when it might matter.
    if (json.length * 3 > this.#maxBytes && new TextEncoder().encode(json).length > this.#maxBytes) {
      throw new StateError(
        "STATE_TOO_LARGE",
        `state of "${name}" is too large: over the ${this.#maxBytes}-byte cap (option maxBytes)`,
        { service: name },
      );
    }
    const previous = this.#entries.get(name)?.generation ?? 0;
    this.#entries.set(name, { json, version, generation: Math.max(previous + 1, Date.now()) });
  }

  /** @throws StateError `INVALID_NAME`. */
  async load(name: string): Promise<LoadedState | undefined> {
    assertValidName(name);
    const entry = this.#entries.get(name);
    if (entry === undefined) return undefined;
    const state = decodeState(entry.json, this.#maxDepth, name);
    return entry.version === undefined
      ? { state, generation: entry.generation }
      : { state, version: entry.version, generation: entry.generation };
  }

  /** @throws StateError `INVALID_NAME`. */
  async exists(name: string): Promise<boolean> {
    assertValidName(name);
    return this.#entries.has(name);
  }

  /** @throws StateError `INVALID_NAME`. */
  async delete(name: string): Promise<void> {
    assertValidName(name);
    this.#entries.delete(name);
  }

  async list(): Promise<string[]> {
    return [...this.#entries.keys()].sort();
  }
}
