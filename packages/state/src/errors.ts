/**
 * Stable codes of every error `@mk/state` throws; match on these, never on messages.
 *
 * | code | meaning |
 * |---|---|
 * | `INVALID_NAME` | the service name does not match {@link STATE_NAME_PATTERN} |
 * | `INVALID_ARGUMENT` | another argument has the wrong type or range (options, `meta.version`) |
 * | `STATE_ENCODE_FAILED` | the state holds a value that would not survive a save/load unchanged |
 * | `STATE_TOO_LARGE` | the file (or the sealed state on save) exceeds `maxBytes` |
 * | `NOT_A_FILE` | the state path is a symlink, FIFO, socket, directory or other non-regular file |
 * | `STATE_UNKNOWN_FORMAT` | the file is not an mk envelope and no `legacy` crypter was given |
 * | `STATE_DECRYPT_FAILED` | the crypter refused the file: wrong key, tampered, truncated, copied from another service |
 * | `STATE_ENCRYPT_FAILED` | the crypter failed to seal the state |
 * | `STATE_CORRUPT` | the file decrypted but its content is not a valid state document |
 * | `STATE_UNSUPPORTED_VERSION` | the state document was written by a newer mk (format version above 1) |
 * | `ROLLBACK` | the file holds an older generation than this store already saw or wrote for the service |
 * | `UNSAFE_DIR` | the state directory is a symlink, not a directory, writable by group/others, or owned by another user |
 * | `STATE_IO` | a file system call failed (the message names the step; `cause` has the errno) |
 */
export type StateErrorCode =
  | "INVALID_NAME"
  | "INVALID_ARGUMENT"
  | "STATE_ENCODE_FAILED"
  | "STATE_TOO_LARGE"
  | "NOT_A_FILE"
  | "STATE_UNKNOWN_FORMAT"
  | "STATE_DECRYPT_FAILED"
  | "STATE_ENCRYPT_FAILED"
  | "STATE_CORRUPT"
  | "STATE_UNSUPPORTED_VERSION"
  | "ROLLBACK"
  | "UNSAFE_DIR"
  | "STATE_IO";

/** Options of every {@link StateError}. */
export interface StateErrorOptions {
  /** The service the error is about. */
  service?: string | undefined;
  /** The file the error is about. */
  path?: string | undefined;
  cause?: unknown;
}

/** Base (and only) class of every error thrown or rejected by `@mk/state`. */
export class StateError extends Error {
  override name = "StateError";
  /** Stable machine-readable reason; see {@link StateErrorCode}. */
  readonly code: StateErrorCode;
  /** The service the error is about, when there is one. */
  readonly service: string | undefined;
  /** The file the error is about, when there is one. */
  readonly path: string | undefined;
  /**
   * Where the file was moved when the store's `quarantine` option renamed it aside
   * after this error; `undefined` when it was not moved.
   */
  quarantinedTo: string | undefined;

  constructor(code: StateErrorCode, message: string, options: StateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.service = options.service;
    this.path = options.path;
    this.quarantinedTo = undefined;
  }
}

/**
 * A state value that would not come back unchanged from a save and load
 * (code `STATE_ENCODE_FAILED`). `valuePath` says where, e.g. `state.users[2].since`.
 */
export class StateEncodeError extends StateError {
  override name = "StateEncodeError";
  /** Where in the state the offending value sits, e.g. `state.users`. */
  readonly valuePath: string;

  constructor(valuePath: string, reason: string, service?: string, cause?: unknown) {
    super("STATE_ENCODE_FAILED", `${service === undefined ? "" : `state of "${service}": `}${valuePath}: ${reason}`, {
      service,
      cause,
    });
    this.valuePath = valuePath;
  }
}

/** The errno-style code of a Node.js system error, if it has one. */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}
