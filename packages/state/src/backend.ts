// Subpath "@mk/state/backend": the shared rules (encoding, names, save checks, order, sealing) and the server-store helpers for other stores.
//
// A backend outside this package (@mk/store-postgres, @mk/store-nats) encodes,
// names, checks, orders and seals exactly as the built-in stores do and passes
// the same conformance suite (@mk/state/testing).
export { encodeState, decodeState, DEFAULT_MAX_DEPTH } from "./encoding.ts";
export { DEFAULT_MAX_BYTES, checkMeta as checkSaveMeta, type CheckedMeta } from "./options.ts";
export { checkSaveConditions, nextGeneration, type StoredMark } from "./save-conditions.ts";
export { assertValidName } from "./names.ts";
export { KeyedQueue } from "./file/keyed-queue.ts";
export { sealState, openState, SEALED_FORMAT, type OpenedState } from "./sealed-state.ts";
export {
  checkCrypterOption,
  DeadlineError,
  loadedState,
  OperationTracker,
  positiveIntegerOption,
  prepareSave,
  withDeadline,
  type BackendErrorFactory,
} from "./server-backend.ts";
