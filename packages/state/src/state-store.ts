/** What a store hands back for a service: its state and the metadata saved with it. */
export interface LoadedState {
  state: unknown;
  version?: string;
  /**
   * The save counter stored with the state: strictly increasing per service, the value
   * `meta.ifGeneration` compares with. File and memory stores use
   * `max(previous + 1, Date.now())`; `0` for a legacy reference-format file.
   */
  generation?: number;
  /**
   * The highest fencing epoch stored for the service (`meta.epoch`); `0` when no save
   * carried one. Absent from backends that do not keep one.
   */
  epoch?: number;
  /** `true` when the file was read in the legacy reference format; the next save rewrites it in the mk format. */
  legacy?: boolean;
  /**
   * `true` when the crypter reports the file was sealed with a key other than its
   * primary one; the next save reseals it with the primary key.
   */
  needsRewrap?: boolean;
}

/** Metadata saved beside a state, and the conditions a save must meet. */
export interface SaveMeta {
  /** Version of the service that exported the state; given back as `fromVersion` on import. */
  version?: string;
  /**
   * Compare-and-set: save only if the stored generation is this one (the `generation`
   * `load` returned); `0`: only if nothing is stored. Otherwise the save rejects with
   * `STATE_CONFLICT` ({@link StateConflictError}, naming the stored generation) and
   * nothing is written.
   * @default undefined (no condition: the save replaces whatever is stored)
   */
  ifGeneration?: number;
  /**
   * Fencing token (a non-negative integer, e.g. the lease number of the node that owns
   * the service). The store keeps the highest epoch saved per name; a save with a lower
   * one rejects with `STATE_FENCED` ({@link StateFencedError}) and nothing is written.
   * An equal epoch is accepted. A save without an epoch is not checked and keeps the
   * stored epoch.
   * @default undefined (not fenced)
   */
  epoch?: number;
}

/**
 * Where the kernel keeps each service's exported state between runs.
 * Every backend passes the conformance suite exported as `@mk/state/testing`.
 */
export interface StateStore {
  /**
   * Stores `state` for `name`. With `meta.epoch` the save is fenced (checked first),
   * with `meta.ifGeneration` it is a compare-and-set; the check and the write are one
   * atomic step.
   */
  save(name: string, state: unknown, meta?: SaveMeta): Promise<void>;
  /** `undefined` when nothing is stored under `name`. */
  load(name: string): Promise<LoadedState | undefined>;
  exists(name: string): Promise<boolean>;
  /** Removes the state of `name`, its generation and its epoch. No-op when nothing is stored. */
  delete(name: string): Promise<void>;
  /** Names with a stored state, sorted. */
  list(): Promise<string[]>;
  /**
   * Waits for the operations already started, then releases what the store holds
   * (connections, locks). Idempotent; every later call rejects with `STATE_CLOSED`.
   * Optional, so a store written to the five-method contract still type-checks: callers
   * use `await store.close?.()`. Every mk backend has it, and the conformance suite
   * (`@mk/state/testing`) requires it.
   */
  close?(): Promise<void>;
}
