import type { Timeouts, Watch } from "./timeouts.ts";

/** What happens when a start or stop settles; one object per transition instead of a closure per outcome. */
export interface SettleHooks {
  /** Runs when the value fulfils in time, before the outcome is reported. */
  fulfilled(): void;
  /** Maps the rejection (any thrown value) to the error reported. */
  rejected(error: unknown): Error;
  /** The deadline passed first: the error reported. */
  timedOut(): Error;
}

/** One start or stop of a batch (a level of startAll/stopAll): its transition, its pending value, and where its outcome goes. */
export interface BatchEntry extends SettleHooks {
  readonly value: PromiseLike<unknown>;
  readonly timeoutMs: number;
  settled: boolean;
  /** Called once with the outcome: `undefined` when it fulfilled in time. */
  done(error: Error | undefined): void;
}

/**
 * Settles many starts (or stops) begun at the same moment: each entry's
 * outcome goes to its `done` as soon as it is known, and the promise resolves
 * when every entry has settled or missed its deadline. Entries with the same
 * timeout share one deadline (they began together), so a level of 10,000
 * services costs one watch per distinct timeout instead of a promise and a
 * watch per service.
 */
export function settleBatch(entries: readonly BatchEntry[], timeouts: Timeouts): Promise<void> {
  return new Promise<void>((resolve) => {
    let left = entries.length;
    const watches: Watch[] = [];
    const finish = (entry: BatchEntry, error: Error | undefined): void => {
      entry.settled = true;
      entry.done(error);
      if (--left === 0) {
        for (const watch of watches) watch.cancel();
        resolve();
      }
    };
    // Distinct timeout values (usually one: the kernel default).
    const lengths: number[] = [];
    let last = Number.NaN;
    for (const entry of entries) {
      try {
        entry.value.then(
          () => {
            if (entry.settled) return;
            entry.fulfilled();
            finish(entry, undefined);
          },
          (error: unknown) => {
            if (!entry.settled) finish(entry, entry.rejected(error));
          },
        );
      } catch (error) {
        // A hand-made thenable whose then() throws: the start or stop failed.
        if (!entry.settled) finish(entry, entry.rejected(error));
      }
      const ms = entry.timeoutMs;
      if (ms !== last && ms > 0 && Number.isFinite(ms) && !lengths.includes(ms)) lengths.push(ms);
      last = ms;
    }
    for (const timeoutMs of lengths) {
      watches.push(
        timeouts.watch(timeoutMs, () => {
          for (const entry of entries) {
            if (!entry.settled && entry.timeoutMs === timeoutMs) finish(entry, entry.timedOut());
          }
        }),
      );
    }
  });
}
