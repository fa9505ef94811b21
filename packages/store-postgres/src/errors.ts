// PostgresStoreError and PostgresUnavailableError; the codes are @mk/state codes.
import { StateError } from "@mk/state";

/**
 * Stable codes of every error `@mk/store-postgres` throws; match on these, never on messages.
 * They are `@mk/state` codes, so code written against any `StateStore` handles them.
 *
 * | code | meaning |
 * |---|---|
 * | `INVALID_ARGUMENT` | a constructor option or `meta` field has the wrong type or range (a bad table name included) |
 * | `INVALID_NAME` | the service name does not match `STATE_NAME_PATTERN` |
 * | `STATE_ENCODE_FAILED` | the state holds a value that would not survive a save/load unchanged |
 * | `STATE_TOO_LARGE` | the sealed state exceeds `maxBytes` |
 * | `STATE_ENCRYPT_FAILED` | the crypter failed to seal the state |
 * | `STATE_DECRYPT_FAILED` | the row does not open: wrong key, a changed byte, a row copied from another name |
 * | `STATE_CORRUPT` | the row opened but its document is not a valid state document, or its columns disagree with it |
 * | `STATE_UNSUPPORTED_VERSION` | the document was written by a newer mk |
 * | `STATE_CONFLICT` | `meta.ifGeneration` did not match the stored generation; nothing was written (`StateConflictError` from `@mk/state`) |
 * | `STATE_FENCED` | `meta.epoch` is lower than the highest epoch stored for the name; nothing was written (`StateFencedError`) |
 * | `STATE_CLOSED` | the store was closed |
 * | `STATE_IO` | PostgreSQL failed or could not be reached in time ({@link PostgresUnavailableError}); `cause` has the driver's error |
 */
export type PostgresStoreErrorCode =
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
 * Base class of the errors `@mk/store-postgres` raises itself; a `StateError`, so
 * callers that handle any store's errors handle these too. (Encoding and sealing
 * errors come from `@mk/state` as plain `StateError`s with the codes above.)
 */
export class PostgresStoreError extends StateError {
  override name = "PostgresStoreError";
  declare readonly code: PostgresStoreErrorCode;

  constructor(code: PostgresStoreErrorCode, message: string, options: { service?: string; cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/**
 * PostgreSQL could not be reached, or did not answer within `timeoutMs` (code `STATE_IO`).
 * For a save, the outcome is unknown: the row may or may not have been written; a
 * `load` tells. Retry once the server is back; the store reconnects by itself.
 */
export class PostgresUnavailableError extends PostgresStoreError {
  override name = "PostgresUnavailableError";

  constructor(message: string, options: { service?: string; cause?: unknown } = {}) {
    super("STATE_IO", message, options);
  }
}
