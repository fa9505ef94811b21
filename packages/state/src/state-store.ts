/** What a store hands back for a service: its state and the version that saved it. */
export interface LoadedState {
  state: unknown;
  version?: string;
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
