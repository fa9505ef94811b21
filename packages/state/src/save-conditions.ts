import { StateConflictError, StateFencedError } from "./errors.ts";
import type { CheckedMeta } from "./options.ts";

/** What a backend knows about the stored state of one name, for the save conditions. */
export interface StoredMark {
  generation: number;
  epoch: number;
}

/**
 * The checks of a conditional save against what is stored (`undefined`: nothing):
 * fencing first (a stale owner is told it is stale, not that it lost a race), then
 * compare-and-set. A legacy file counts as generation 0, like nothing stored.
 * @returns the epoch to store with the new state: the highest seen.
 * @throws StateFencedError (`STATE_FENCED`) or StateConflictError (`STATE_CONFLICT`).
 */
export function checkSaveConditions(service: string, meta: CheckedMeta, stored: StoredMark | undefined): number {
  const storedEpoch = stored?.epoch ?? 0;
  if (meta.epoch !== undefined && meta.epoch < storedEpoch) {
    throw new StateFencedError(service, meta.epoch, storedEpoch);
  }
  const storedGeneration = stored?.generation ?? 0;
  if (meta.ifGeneration !== undefined && meta.ifGeneration !== storedGeneration) {
    throw new StateConflictError(service, meta.ifGeneration, storedGeneration);
  }
  return Math.max(storedEpoch, meta.epoch ?? 0);
}

/** The next generation after `previous`: strictly greater, and near the wall clock so it grows across restarts. */
export function nextGeneration(previous: number): number {
  return Math.max(previous + 1, Date.now());
}
