// NatsStoreError and NatsUnavailableError; the codes are @mk/state codes.
import { StateError } from "@mk/state";

/**
 * Stable codes of every error `@mk/store-nats` throws; match on these, never on messages.
 * They are `@mk/state` codes, so code written against any `StateStore` handles them.
 *
 * | code | meaning |
 * |---|---|
 * | `INVALID_ARGUMENT` | a constructor option or `meta` field has the wrong type or range (a bad bucket name included) |
 * | `INVALID_NAME` | the service name does not match `STATE_NAME_PATTERN` |
 * | `STATE_ENCODE_FAILED` | the state holds a value that would not survive a save/load unchanged |
 * | `STATE_TOO_LARGE` | the sealed state exceeds `maxBytes` |
 * | `STATE_ENCRYPT_FAILED` | the crypter failed to seal the state |
 * | `STATE_DECRYPT_FAILED` | the entry does not open: wrong key, a changed byte, an entry copied from another name |
 * | `STATE_CORRUPT` | the entry opened but its document or its header is not valid |
 * | `STATE_UNSUPPORTED_VERSION` | the document was written by a newer mk |
 * | `STATE_CONFLICT` | `meta.ifGeneration` did not match the stored generation; nothing was written (`StateConflictError` from `@mk/state`) |
 * | `STATE_FENCED` | `meta.epoch` is lower than the highest epoch stored for the name; nothing was written (`StateFencedError`) |
 * | `STATE_CLOSED` | the store was closed |
 * | `STATE_IO` | NATS (JetStream KV) failed or could not be reached in time ({@link NatsUnavailableError}); `cause` has the driver's error |
 */
export type NatsStoreErrorCode =
  | "INVALID_ARGUMENT"
  | "INVALID_NAME"
  | "STATE_ENCODE_FAILED"
  | "STATE_TOO_LARGE"
  | "STATE_ENCRYPT_FAILED"
  | "STATE_DECRYPT_FAILED"
  | "STATE_CORRUPT"
  | "STATE_UNSUPPORTED_VERSION"
  | "STATE_CONFLICT"
  | "STATE_FENCED"
  | "STATE_CLOSED"
  | "STATE_IO";

/**
 * Base class of the errors `@mk/store-nats` raises itself; a `StateError`, so
 * callers that handle any store's errors handle these too. (Encoding and sealing
 * errors come from `@mk/state` as plain `StateError`s with the codes above.)
 */
export class NatsStoreError extends StateError {
  override name = "NatsStoreError";
  declare readonly code: NatsStoreErrorCode;

  constructor(code: NatsStoreErrorCode, message: string, options: { service?: string; cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/**
 * NATS could not be reached, or did not answer within `timeoutMs` (code `STATE_IO`).
 * For a save, the outcome is unknown: the entry may or may not have been written; a
 * `load` tells. Retry once the server is back; the store reconnects by itself.
 */
export class NatsUnavailableError extends NatsStoreError {
  override name = "NatsUnavailableError";

  constructor(message: string, options: { service?: string; cause?: unknown } = {}) {
    super("STATE_IO", message, options);
  }
}
