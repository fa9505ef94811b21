import { describeThrown } from "@mk/common";

/** Stable codes of every error `@mk/cli` throws; match on these, not on messages. */
export type CliErrorCode =
  | "INVALID_ARGUMENT"
  | "USAGE"
  | "CONFIG_NOT_FOUND"
  | "CONFIG_LOAD_FAILED"
  | "CONFIG_INVALID"
  | "SERVICE_MODULE_FAILED"
  | "KEY_MISSING"
  | "KEY_INVALID"
  | "KEY_FILE_UNSAFE"
  | "UNSUPPORTED"
  | "BOOT_REFUSED"
  | "CONTROL_UNSAFE"
  | "CONTROL_UNREACHABLE"
  | "CONTROL_FAILED"
  | "STATE_FAILED"
  | "VERIFY_FAILED"
  | "NOT_CONFIRMED"
  | "IMPORT_INVALID";

/** Options every {@link CliError} takes. */
export interface CliErrorOptions {
  cause?: unknown;
  /** What to do about it, printed after the message. */
  hint?: string;
}

/**
 * Base of every error `@mk/cli` throws. The binary prints `message` (and
 * `hint`) as one line and exits with {@link CliError.exitCode}.
 */
export class CliError extends Error {
  override name = "CliError";
  readonly code: CliErrorCode;
  readonly hint: string | undefined;

  constructor(code: CliErrorCode, message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }

  /** 2 for a command line the binary could not understand (as `getopt` tools do), 1 otherwise. */
  get exitCode(): number {
    return this.code === "USAGE" ? 2 : 1;
  }
}

/** An unknown command or flag, a missing or extra argument. */
export class UsageError extends CliError {
  override name = "UsageError";
  constructor(message: string, hint?: string) {
    super("USAGE", message, hint === undefined ? {} : { hint });
  }
}

/** The config file is missing, throws when loaded, or has a field of the wrong shape: names the file and the field. */
export class ConfigError extends CliError {
  override name = "ConfigError";
  /** The config file the error is about. */
  readonly file: string;
  /** The field, as a path (`services[0].module`), when one is at fault. */
  readonly field: string | undefined;

  constructor(
    code: "CONFIG_NOT_FOUND" | "CONFIG_LOAD_FAILED" | "CONFIG_INVALID",
    file: string,
    message: string,
    options: CliErrorOptions & { field?: string } = {},
  ) {
    super(code, message, options);
    this.file = file;
    this.field = options.field;
  }
}

/** A key that cannot be had: unset variable, wrong size, unsafe key file. */
export class KeyError extends CliError {
  override name = "KeyError";
  constructor(code: "KEY_MISSING" | "KEY_INVALID" | "KEY_FILE_UNSAFE", message: string, options: CliErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The control socket or its folder is not private to this user, or no kernel answers there. */
export class ControlError extends CliError {
  override name = "ControlError";
  constructor(
    code: "CONTROL_UNSAFE" | "CONTROL_UNREACHABLE" | "CONTROL_FAILED",
    message: string,
    options: CliErrorOptions = {},
  ) {
    super(code, message, options);
  }
}

/** The describer every command uses for a thrown value it did not make (never throws, bounded). */
export function describeError(error: unknown): string {
  return describeThrown(error);
}
