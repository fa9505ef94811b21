export { PostgresStateStore, type PostgresStateStoreOptions } from "./postgres-state-store.ts";
export { PostgresStoreError, PostgresUnavailableError, type PostgresStoreErrorCode } from "./errors.ts";
