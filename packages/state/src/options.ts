import { StateError } from "./errors.ts";
import type { SaveMeta } from "./state-store.ts";

/** Default cap on a state file's size (and on a sealed state at save): 64 MiB. */
export const DEFAULT_MAX_BYTES: number = 64 * 1024 * 1024;

/** @throws StateError `INVALID_ARGUMENT` unless `value` is undefined or a positive safe integer. */
export function positiveInteger(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new StateError("INVALID_ARGUMENT", `option ${what}: expected a positive integer, got ${show(value)}`);
  }
  return value;
}

/** @throws StateError `INVALID_ARGUMENT` unless `meta` is undefined or `{ version?: string }`. */
export function checkMeta(meta: unknown, service: string): string | undefined {
  if (meta === undefined) return undefined;
  if (typeof meta !== "object" || meta === null) {
    throw new StateError("INVALID_ARGUMENT", `save of "${service}": meta must be an object, got ${show(meta)}`, {
      service,
    });
  }
  const version = (meta as SaveMeta).version;
  if (version !== undefined && typeof version !== "string") {
    throw new StateError(
      "INVALID_ARGUMENT",
      `save of "${service}": meta.version must be a string, got ${typeof version}`,
      { service },
    );
  }
  return version;
}

function show(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined)
    return String(value);
  return typeof value === "string" ? JSON.stringify(value) : typeof value;
}
