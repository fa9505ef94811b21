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
 * | `STATE_CONFLICT` | `meta.ifGeneration` did not match the stored generation ({@link StateConflictError}) |
 * | `STATE_FENCED` | `meta.epoch` is lower than the highest epoch stored for the service ({@link StateFencedError}) |
 * | `STATE_LOCKED` | another live process holds the state directory ({@link StateLockedError}) |
 * | `STATE_CLOSED` | the store was closed |
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
  | "STATE_IO"
  | "STATE_CONFLICT"
  | "STATE_FENCED"
  | "STATE_LOCKED"
  | "STATE_CLOSED";

/** Options of every {@link StateError}. */
export interface StateErrorOptions {
  /** The service the error is about. */
  service?: string | undefined;
  /** The file the error is about. */
  path?: string | undefined;
  cause?: unknown;
}

/** Base class of every error thrown or rejected by `@mk/state`; match on {@link StateError.code}. */
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

/**
 * A compare-and-set save refused (code `STATE_CONFLICT`): `meta.ifGeneration` was not the
 * stored generation. Load again, merge, and retry with the generation `load` returns.
 */
export class StateConflictError extends StateError {
  override name = "StateConflictError";
  /** The `ifGeneration` the save asked for (`0`: only if nothing is stored). */
  readonly expectedGeneration: number;
  /** The generation stored when the save was refused; `0` when nothing is stored. */
  readonly storedGeneration: number;

  constructor(service: string, expectedGeneration: number, storedGeneration: number) {
    const expected =
      expectedGeneration === 0 ? "nothing stored (ifGeneration 0)" : `stored generation ${expectedGeneration}`;
    const stored = storedGeneration === 0 ? "nothing is stored" : `the stored generation is ${storedGeneration}`;
    super("STATE_CONFLICT", `save of "${service}" refused: expected ${expected}, but ${stored}`, { service });
    this.expectedGeneration = expectedGeneration;
    this.storedGeneration = storedGeneration;
  }
}

/**
 * A fenced save refused (code `STATE_FENCED`): a save with a higher `meta.epoch` was
 * already stored for this service, so this writer is stale (Kleppmann's fencing token).
 */
export class StateFencedError extends StateError {
  override name = "StateFencedError";
  /** The epoch the refused save carried. */
  readonly epoch: number;
  /** The highest epoch stored for the service. */
  readonly storedEpoch: number;

  constructor(service: string, epoch: number, storedEpoch: number) {
    super(
      "STATE_FENCED",
      `save of "${service}" refused: epoch ${epoch} is stale, epoch ${storedEpoch} was already stored (a newer owner took over)`,
      { service },
    );
    this.epoch = epoch;
    this.storedEpoch = storedEpoch;
  }
}

/** The state directory is held by another live process (code `STATE_LOCKED`). */
export class StateLockedError extends StateError {
  override name = "StateLockedError";
  /** Process id of the holder. */
  readonly holderPid: number;

  constructor(dir: string, holderPid: number, detail = "") {
    super(
      "STATE_LOCKED",
      `state directory ${dir} is locked by process ${holderPid}${detail}; one process at a time may use it`,
      { path: dir },
    );
    this.holderPid = holderPid;
  }
}

/** The errno-style code of a Node.js system error, if it has one. */
export function errnoOf(error: unknown): string | undefined {
  try {
    if (typeof error === "object" && error !== null && "code" in error) {
      const code = (error as { code: unknown }).code;
      if (typeof code === "string") return code;
    }
  } catch {
    // A Proxy or a throwing getter has no usable code; the caller reports the error another way.
  }
  return undefined;
}
