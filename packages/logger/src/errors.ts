/**
 * Stable codes of every error `@mk/logger` throws or reports; match on these, not on messages.
 * The catalogue test (`errors.test.ts`) pins this list.
 */
export type LoggerErrorCode = "INVALID_ARGUMENT" | "INVALID_LEVEL" | "SINK_OPEN" | "SINK_WRITE" | "HTTP_SINK";

/** Base class of every error `@mk/logger` throws or reports; `code` is stable, match on it. */
export class LoggerError extends Error {
  override name = "LoggerError";
  readonly code: LoggerErrorCode;
  constructor(code: LoggerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** A level that is not a level name ("trace" | "debug" | "info" | "warn" | "error" | "fatal"). Code `INVALID_LEVEL`. */
export class InvalidLevelError extends LoggerError {
  override name = "InvalidLevelError";
  constructor(got: unknown) {
    super(
      "INVALID_LEVEL",
      `invalid log level ${describe(got)}: expected "trace" | "debug" | "info" | "warn" | "error" | "fatal"`,
    );
  }
}

/**
 * A bad argument to `createLogger`, `child` or a sink factory (wrong type, out of range,
 * an empty or control-character service name). Code `INVALID_ARGUMENT`, as in every mk package.
 */
export class InvalidArgumentError extends LoggerError {
  override name = "InvalidArgumentError";
  constructor(what: string, expected: string, got: unknown) {
    super("INVALID_ARGUMENT", `invalid ${what} ${describe(got)}: expected ${expected}`);
  }
}

/** An HTTP sink's POST failed or its records were dropped (reported through `onError`, never thrown). Code `HTTP_SINK`. */
export class HttpSinkError extends LoggerError {
  override name = "HttpSinkError";
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super("HTTP_SINK", message, options);
    this.status = status;
  }
}

/** A sink could not write (reported through `onError`, never thrown into a log call). Code `SINK_WRITE`. */
export class SinkWriteError extends LoggerError {
  override name = "SinkWriteError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("SINK_WRITE", message, options);
  }
}

/** A file sink could not open its file (thrown by `fileSink` itself, at set-up). Code `SINK_OPEN`. */
export class SinkOpenError extends LoggerError {
  override name = "SinkOpenError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("SINK_OPEN", message, options);
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? value.slice(0, 60) + "…" : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}
