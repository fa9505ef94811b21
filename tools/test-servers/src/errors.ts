/**
 * Stable codes of every error `@mk/test-servers` throws.
 *
 * | code | meaning |
 * |---|---|
 * | `SERVER_NOT_INSTALLED` | the server binary was not found; the message says what to install |
 * | `SERVER_START_FAILED` | the server exited or did not become ready in time; the message has its last output |
 * | `SERVER_STOPPED` | the helper was already stopped (its folder is gone) |
 * | `INVALID_ARGUMENT` | an option has the wrong type or range |
 */
export type TestServerErrorCode =
  "SERVER_NOT_INSTALLED" | "SERVER_START_FAILED" | "SERVER_STOPPED" | "INVALID_ARGUMENT";

/** Base (and only) class of every error thrown by `@mk/test-servers`. */
export class TestServerError extends Error {
  override name = "TestServerError";
  readonly code: TestServerErrorCode;
  /** Which server the error is about: `"nats-server"` or `"postgres"`. */
  readonly server: string;

  constructor(code: TestServerErrorCode, server: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.server = server;
  }
}
