/** Base class of every error `@mk/logger` throws; `code` is stable, match on it. */
export class LoggerError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A level that is not one of "debug" | "info" | "warn" | "error". */
export class InvalidLevelError extends LoggerError {
  constructor(got: unknown) {
    super(
      "MK_LOGGER_INVALID_LEVEL",
      `invalid log level ${describe(got)}: expected "debug" | "info" | "warn" | "error"`,
    );
  }
}

/** A bad argument to `createLogger`, `child` or a sink factory. */
export class InvalidLoggerOptionError extends LoggerError {
  constructor(what: string, expected: string, got: unknown) {
    super("MK_LOGGER_INVALID_OPTION", `invalid ${what} ${describe(got)}: expected ${expected}`);
  }
}

/** An HTTP sink's POST answered with a non-2xx status (reported through `onError`, never thrown). */
export class HttpSinkError extends LoggerError {
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super("MK_LOGGER_HTTP_SINK", message, options);
    this.status = status;
  }
}

/** A sink could not write (reported through `onError`, never thrown into a log call). */
export class SinkWriteError extends LoggerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("MK_LOGGER_SINK_WRITE", message, options);
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? value.slice(0, 60) + "…" : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

/** A file sink could not open its file (thrown by `fileSink` itself, at set-up). */
export class SinkOpenError extends LoggerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("MK_LOGGER_SINK_OPEN", message, options);
  }
}
