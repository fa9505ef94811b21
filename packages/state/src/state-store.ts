/** What a store hands back for a service: its state and the version that saved it. */
export interface LoadedState {
  state: unknown;
  version?: string;
  /**
   * The save counter stored with the state (strictly increasing per service and
   * store; a `FileStateStore` uses `max(previous + 1, Date.now())`). `0` for
   * a legacy reference-format file. Absent from backends that do not keep one.
   */
  generation?: number;
  /** `true` when the file was read in the legacy reference format; the next save rewrites it in the mk format. */
  legacy?: boolean;
  /**
   * `true` when the crypter reports the file was sealed with a key other than its
   * primary one; the next save reseals it with the primary key.
   */
  needsRewrap?: boolean;
}

/** Metadata saved beside a state. */
export interface SaveMeta {
  /** Version of the service that exported the state; given back as `fromVersion` on import. */
  version?: string;
}

/**
 * Where the kernel keeps each service's exported state between runs.
 * Every backend passes the conformance suite in `test/conformance.ts`.
 */
export interface StateStore {
  save(name: string, state: unknown, meta?: SaveMeta): Promise<void>;
  /** `undefined` when nothing is stored under `name`. */
  load(name: string): Promise<LoadedState | undefined>;
  exists(name: string): Promise<boolean>;
  delete(name: string): Promise<void>;
  /** Names with a stored state, sorted. */
  list(): Promise<string[]>;
}
