import { InvalidArgumentError } from "./errors.ts";
import { isPlainObject } from "./format.ts";
import { assertLevel } from "./levels.ts";

export function checkStreamSinkArgs(name: string, stream: unknown, options: unknown): void {
  if (
    stream !== undefined &&
    !(typeof stream === "number" && Number.isInteger(stream) && stream >= 0) &&
    !(typeof stream === "object" && stream !== null && typeof (stream as { write?: unknown }).write === "function")
  ) {
    throw new InvalidArgumentError(`${name} stream`, "an object with write(string) or a file descriptor", stream);
  }
  checkOptionsObject(name, options);
  const o = options as { buffered?: unknown; onError?: unknown } | undefined;
  if (o?.buffered !== undefined && typeof o.buffered !== "boolean") {
    throw new InvalidArgumentError(`${name} option buffered`, "a boolean", o.buffered);
  }
  checkOptionalFunction(`${name} option onError`, o?.onError);
  checkOptionalLevel((o as { level?: unknown } | undefined)?.level);
}

export function checkOptionsObject(name: string, options: unknown): void {
  if (options !== undefined && (typeof options !== "object" || options === null || Array.isArray(options))) {
    throw new InvalidArgumentError(`${name} options`, "an object", options);
  }
}

export function checkOptionalFunction(what: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function") throw new InvalidArgumentError(what, "a function", value);
}

export function checkPositiveInt(what: string, value: unknown, min = 1): void {
  if (value !== undefined && !(typeof value === "number" && Number.isInteger(value) && value >= min)) {
    throw new InvalidArgumentError(what, `an integer >= ${min}`, value);
  }
}

/** @throws {InvalidLevelError} */
export function checkOptionalLevel(value: unknown): void {
  if (value !== undefined) assertLevel(value);
}

/** `options.base` of a JSON-writing sink: absent, null or a plain object. */
export function checkBase(name: string, options: unknown): void {
  if (typeof options !== "object" || options === null) return; // the options check itself says what is wrong
  const base = (options as { base?: unknown }).base;
  if (base !== undefined && base !== null && !isPlainObject(base)) {
    throw new InvalidArgumentError(`${name} option base`, "a plain object or null", base);
  }
}
