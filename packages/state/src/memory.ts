// Subpath "@mk/state/memory": the in-memory backend alone (no node:fs import).
export { MemoryStateStore, type MemoryStateStoreOptions } from "./memory-state-store.ts";
