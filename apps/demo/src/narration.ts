import type { Kernel } from "@mk/core";
import type { Logger } from "@mk/logger";

/**
 * Tells the parts of the story the kernel's own log does not: every
 * checkpoint, the state migration inside a hot swap, a rolled-back swap; and,
 * at debug, each status change and swap step (the kernel already says
 * "started"/"stopped" and when a swap begins and ends). Returns a function
 * that unsubscribes.
 */
export function narrateKernel(kernel: Kernel, log: Logger): () => void {
  const offs = [
    kernel.on("status", (change) => {
      log.debug("status: %s %s -> %s", change.name, change.from ?? "(new)", change.to);
    }),
    kernel.on("checkpoint", (saved) => {
      log.info(
        "checkpoint: saved the state of %s%s",
        saved.name,
        saved.version === undefined ? "" : ` ${saved.version}`,
      );
    }),
    kernel.on("swap", (swap) => {
      const versions = `${swap.fromVersion ?? "?"} -> ${swap.toVersion ?? "?"}`;
      if (swap.step === "migrated") {
        log.info(
          "swap of %s %s: state exported by the old version, saved, imported by the new one",
          swap.name,
          versions,
        );
      } else if (swap.step === "rolled-back") {
        log.warn(
          "swap of %s %s rolled back, the old version serves again: %s",
          swap.name,
          versions,
          swap.error?.message ?? "",
        );
      } else {
        log.debug("swap of %s %s: %s", swap.name, versions, swap.step);
      }
    }),
    kernel.on("checkpoint-failed", (failed) => {
      log.warn("checkpoint of %s failed, retried at the next tick: %s", failed.name, failed.error.message);
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}

/** A wait for checkpoints that can be given up. */
export interface CheckpointWait {
  /** `true` when the checkpoints came, `false` on timeout or cancel. */
  readonly saved: Promise<boolean>;
  /** Stops waiting at once (so no timer keeps the process alive). */
  cancel(): void;
}

/**
 * Numbers every checkpoint the kernel reports, so the demo can wait until
 * each service it changed has been saved since the change: checkpoints skip
 * unchanged state, so "the next checkpoint" of a service is only certain to
 * come after a change, and a round saves services one by one.
 */
export class CheckpointLog {
  #count = 0;
  readonly #last = new Map<string, number>();
  readonly #listeners = new Set<() => void>();
  readonly #off: () => void;

  constructor(kernel: Kernel) {
    this.#off = kernel.on("checkpoint", (event) => {
      this.#count += 1;
      this.#last.set(event.name, this.#count);
      // A listener may delete itself while this runs: Set iteration allows that.
      for (const listener of this.#listeners) listener();
    });
  }

  /** A mark to wait from: checkpoints after it count. */
  mark(): number {
    return this.#count;
  }

  /** Waits until each service in `after` was checkpointed after its mark, at most `timeoutMs`. */
  waitFor(after: Readonly<Record<string, number>>, timeoutMs: number): CheckpointWait {
    const done = (): boolean => Object.entries(after).every(([name, mark]) => (this.#last.get(name) ?? 0) > mark);
    let settle: (saved: boolean) => void = () => undefined;
    const saved = new Promise<boolean>((resolve) => {
      settle = (result) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve(result);
      };
    });
    const check = (): void => {
      if (done()) settle(true);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    this.#listeners.add(check);
    check();
    return { saved, cancel: () => settle(false) };
  }

  close(): void {
    this.#off();
  }
}
