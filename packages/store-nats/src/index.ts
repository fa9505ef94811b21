export { NatsKvStateStore, type NatsKvStateStoreOptions } from "./nats-kv-state-store.ts";
export { NatsStoreError, NatsUnavailableError, type NatsStoreErrorCode } from "./errors.ts";
