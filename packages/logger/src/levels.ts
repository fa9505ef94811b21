import { InvalidLevelError } from "./errors.ts";
import type { Level } from "./types.ts";

/** The levels in increasing severity. */
export const LEVELS: readonly Level[] = Object.freeze(["trace", "debug", "info", "warn", "error", "fatal"] as const);

/** pino's numeric levels, so JSON lines read the same in pino-pretty and log shippers. */
export const LEVEL_VALUES: Readonly<Record<Level, number>> = Object.freeze({
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
});

/** Whether `value` is a level name. */
export function isLevel(value: unknown): value is Level {
  return (
    value === "info" ||
    value === "debug" ||
    value === "warn" ||
    value === "error" ||
    value === "trace" ||
    value === "fatal"
  );
}

/**
 * pino's number for a level (trace 10, debug 20, info 30, warn 40, error 50, fatal 60).
 * @throws {InvalidLevelError} for anything that is not a level name.
 */
export function levelValue(level: Level): number {
  if (!isLevel(level)) throw new InvalidLevelError(level);
  return LEVEL_VALUES[level];
}

/** @throws {InvalidLevelError} */
export function assertLevel(value: unknown): Level {
  if (!isLevel(value)) throw new InvalidLevelError(value);
  return value;
}
