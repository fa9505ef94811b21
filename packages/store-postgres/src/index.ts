export { PostgresStateStore, type PostgresStateStoreOptions } from "./postgres-state-store.ts";
export {
  PostgresConflictError,
  PostgresFencedError,
  PostgresStoreError,
  PostgresUnavailableError,
  type PostgresStoreErrorCode,
} from "./errors.ts";
export type { PostgresLoadedState, PostgresSaveMeta } from "./save-meta.ts";
