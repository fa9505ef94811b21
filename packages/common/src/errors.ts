/** Stable codes of every error `@mk/common` throws; match on these, not on messages. */
export type CommonErrorCode = "INVALID_ARGUMENT";

/** Base of every error thrown by `@mk/common`. */
export class CommonError extends Error {
  override name = "CommonError";
  readonly code: CommonErrorCode;

  constructor(code: CommonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** A helper was called with an argument of the wrong type or out of range. */
export class InvalidArgumentError extends CommonError {
  override name = "InvalidArgumentError";
  constructor(message: string) {
    super("INVALID_ARGUMENT", message);
  }
}
