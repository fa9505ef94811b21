import { describeThrown } from "@mk/common";

/** Stable codes of every error `@mk/isolate` throws; match on these, not on messages. */
export type IsolateErrorCode =
  | "INVALID_ARGUMENT"
  | "MODULE_NOT_FOUND"
  | "MODULE_IMPORT_FAILED"
  | "NO_DEFAULT_EXPORT"
  | "NOT_A_SERVICE"
  | "ISOLATE_CRASHED"
  | "ISOLATE_HUNG"
  | "ISOLATE_OUT_OF_MEMORY"
  | "NOT_CLONEABLE"
  | "REMOTE_ERROR";

/** Every code, in one list (the catalogue test pins it). */
export const ISOLATE_ERROR_CODES: readonly IsolateErrorCode[] = [
  "INVALID_ARGUMENT",
  "MODULE_NOT_FOUND",
  "MODULE_IMPORT_FAILED",
  "NO_DEFAULT_EXPORT",
  "NOT_A_SERVICE",
  "ISOLATE_CRASHED",
  "ISOLATE_HUNG",
  "ISOLATE_OUT_OF_MEMORY",
  "NOT_CLONEABLE",
  "REMOTE_ERROR",
];

/** Base of every error thrown by `@mk/isolate`. `service` names the isolated service it is about. */
export class IsolateError extends Error {
  override name = "IsolateError";
  readonly code: IsolateErrorCode;
  readonly service: string;

  constructor(code: IsolateErrorCode, service: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.service = service;
  }
}

/** `isolated()` got options of the wrong type or out of range. Nothing was started. */
export class InvalidArgumentError extends IsolateError {
  override name = "InvalidArgumentError";
  constructor(service: string, message: string) {
    super("INVALID_ARGUMENT", service, service === "" ? message : `isolated service "${service}": ${message}`);
  }
}

/**
 * The service's module could not be loaded or is not a service: the file does
 * not exist (`MODULE_NOT_FOUND`), importing it threw (`MODULE_IMPORT_FAILED`),
 * it has no default export (`NO_DEFAULT_EXPORT`), or its default export is not
 * a service (`NOT_A_SERVICE`). Thrown (as the cause of the kernel's
 * `StartFailedError` or `StateLoadFailedError`) at `start` or `register`.
 */
export class ModuleLoadError extends IsolateError {
  override name = "ModuleLoadError";
  readonly module: string;
  constructor(
    code: "MODULE_NOT_FOUND" | "MODULE_IMPORT_FAILED" | "NO_DEFAULT_EXPORT" | "NOT_A_SERVICE",
    service: string,
    module: string,
    detail: string,
    cause?: unknown,
  ) {
    super(code, service, `isolated service "${service}": module ${module} ${detail}`, { cause });
    this.module = module;
  }
}

/** How an isolate ended without being asked to. */
export type CrashKind = "exit" | "error" | "signal" | "hang" | "out-of-memory" | "fail";

/**
 * The isolate died (exit, uncaught error, signal such as `process.abort()`),
 * hung (`ISOLATE_HUNG`) or ran out of memory (`ISOLATE_OUT_OF_MEMORY`). The
 * calls it held are answered 503 with this message, and the kernel is told
 * through `ctx.fail` (a crash, see supervision).
 */
export class IsolateCrashedError extends IsolateError {
  override name = "IsolateCrashedError";
  readonly kind: CrashKind;
  /** The isolate exited with code 0 on its own: OTP's normal exit (a `transient` service is then not restarted). */
  readonly normal: boolean;
  constructor(
    service: string,
    kind: CrashKind,
    detail: string,
    options?: {
      cause?: unknown;
      code?: "ISOLATE_CRASHED" | "ISOLATE_HUNG" | "ISOLATE_OUT_OF_MEMORY";
      normal?: boolean;
    },
  ) {
    super(
      options?.code ??
        (kind === "hang" ? "ISOLATE_HUNG" : kind === "out-of-memory" ? "ISOLATE_OUT_OF_MEMORY" : "ISOLATE_CRASHED"),
      service,
      `isolated service "${service}" crashed: ${detail}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.kind = kind;
    this.normal = options?.normal === true;
  }
}

/** A value could not cross to or from the isolate: structured clone refused it (a function, a symbol, a socket...). */
export class NotCloneableError extends IsolateError {
  override name = "NotCloneableError";
  /** `what` names the value ("the event", "the reply"); `cause` is the clone error, or the isolate's own message when `what` is undefined. */
  constructor(service: string, what: string | undefined, cause: unknown) {
    super(
      "NOT_CLONEABLE",
      service,
      what === undefined
        ? `isolated service "${service}": ${describe(cause)}`
        : `isolated service "${service}": ${what} cannot cross the isolate boundary (expected structured-cloneable data: no functions, symbols or class instances with private state): ${describe(cause)}`,
      { cause },
    );
  }
}

/**
 * An error thrown inside the isolate (by the service's `start`, `stop`,
 * `exportState`, `importState` or `handle`), rebuilt on the kernel's side:
 * `message` is the original message, `remoteName` and `remoteStack` what the
 * isolate reported.
 */
export class RemoteError extends IsolateError {
  override name = "RemoteError";
  readonly remoteName: string;
  readonly remoteStack: string | undefined;
  readonly remoteCode: string | undefined;
  constructor(service: string, remote: { name: string; message: string; stack?: string; code?: string }) {
    super("REMOTE_ERROR", service, remote.message);
    this.remoteName = remote.name;
    this.remoteStack = remote.stack;
    this.remoteCode = remote.code;
  }
}

/** A thrown value as one line, whatever it is (never throws). */
export function describe(value: unknown): string {
  return describeThrown(value, 500);
}
