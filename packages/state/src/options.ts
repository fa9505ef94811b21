import { StateError } from "./errors.ts";
import { describeThrown } from "@mk/common";

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

/** `meta` of a save, checked: every field read exactly once. */
export interface CheckedMeta {
  version: string | undefined;
  ifGeneration: number | undefined;
  epoch: number | undefined;
}

const NO_META: CheckedMeta = { version: undefined, ifGeneration: undefined, epoch: undefined };

/**
 * Reads and checks `meta` of a save of `service`: `{ version?: string, ifGeneration?: integer >= 0,
 * epoch?: integer >= 0 }`. Each field is read once, so a getter cannot answer the check and
 * the write differently; a getter or Proxy trap that throws is a typed error.
 * @throws StateError `INVALID_ARGUMENT`.
 */
export function checkMeta(meta: unknown, service: string): CheckedMeta {
  if (meta === undefined) return NO_META;
  const bad = (what: string, cause?: unknown): StateError =>
    new StateError("INVALID_ARGUMENT", `save of "${service}": ${what}`, { service, cause });
  if (typeof meta !== "object" || meta === null) throw bad(`meta must be an object, got ${show(meta)}`);
  const read = (key: keyof CheckedMeta): unknown => {
    try {
      return (meta as Record<string, unknown>)[key];
    } catch (cause) {
      throw bad(`reading meta.${key} threw: ${describeThrown(cause)}`, cause);
    }
  };
  const version = read("version");
  if (version !== undefined && typeof version !== "string") {
    throw bad(`meta.version must be a string, got ${show(version)}`);
  }
  const counter = (key: "ifGeneration" | "epoch"): number | undefined => {
    const value = read(key);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw bad(`meta.${key} must be a non-negative integer, got ${show(value)}`);
    }
    return value;
  };
  return { version, ifGeneration: counter("ifGeneration"), epoch: counter("epoch") };
}

function show(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined)
    return String(value);
  return typeof value === "string" ? JSON.stringify(value) : typeof value;
}
