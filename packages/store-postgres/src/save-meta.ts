import type { LoadedState, SaveMeta } from "@mk/state";
import { PostgresStoreError } from "./errors.ts";

/**
 * `SaveMeta` with the compare-and-set and fencing conditions of the shared-store contract
 * (`@mk/state` gains them in the same release; this alias then equals `SaveMeta`).
 */
export interface PostgresSaveMeta extends SaveMeta {
  /** Compare-and-set: save only if the stored generation is this one; `0`: only if nothing is stored. */
  ifGeneration?: number;
  /** Fencing token: refused with `STATE_FENCED` when a higher epoch was already stored for the name. */
  epoch?: number;
}

/** `LoadedState` with the fencing epoch stored with the state. */
export interface PostgresLoadedState extends LoadedState {
  /** The highest fencing epoch stored for the name; `0` when no save carried one. */
  epoch?: number;
}

/** `meta` of a save, read once and checked. */
export interface CheckedMeta {
  version: string | undefined;
  ifGeneration: number | undefined;
  epoch: number | undefined;
}

const NO_META: CheckedMeta = { version: undefined, ifGeneration: undefined, epoch: undefined };

function show(value: unknown): string {
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) {
    return String(value);
  }
  return typeof value === "string" ? JSON.stringify(value) : typeof value;
}

/**
 * Reads `{ version?: string, ifGeneration?: integer >= 0, epoch?: integer >= 0 }` once
 * (a getter cannot answer the check and the write differently).
 * @throws PostgresStoreError `INVALID_ARGUMENT`.
 */
export function checkSaveMeta(meta: unknown, service: string): CheckedMeta {
  if (meta === undefined) return NO_META;
  const bad = (what: string, cause?: unknown): PostgresStoreError =>
    new PostgresStoreError("INVALID_ARGUMENT", `save of "${service}": ${what}`, { service, cause });
  if (typeof meta !== "object" || meta === null) throw bad(`meta must be an object, got ${show(meta)}`);
  const read = (key: keyof CheckedMeta): unknown => {
    try {
      return (meta as Record<string, unknown>)[key];
    } catch (cause) {
      throw bad(`reading meta.${key} threw`, cause);
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
