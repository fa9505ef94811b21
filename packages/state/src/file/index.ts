// Subpath "@mk/state/file": the file backend alone.
export { FileStateStore, type FileStateStoreOptions } from "./file-state-store.ts";
