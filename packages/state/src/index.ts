export type { LoadedState, SaveMeta, StateStore } from "./state-store.ts";
export { FileStateStore, type FileStateStoreOptions } from "./file/file-state-store.ts";
export { MemoryStateStore, type MemoryStateStoreOptions } from "./memory-state-store.ts";
export {
  StateConflictError,
  StateEncodeError,
  StateError,
  StateFencedError,
  StateLockedError,
  type StateErrorCode,
  type StateErrorOptions,
} from "./errors.ts";
export { STATE_NAME_PATTERN } from "./names.ts";
