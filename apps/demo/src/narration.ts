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

/** A wait for one checkpoint that can be given up. */
export interface CheckpointWait {
  /** `true` when a checkpoint saved the service, `false` on timeout or cancel. */
  readonly saved: Promise<boolean>;
  /** Stops waiting at once (so no timer keeps the process alive). */
  cancel(): void;
}

/** Waits for the next checkpoint that saves `name`, at most `timeoutMs`. */
export function nextCheckpoint(kernel: Kernel, name: string, timeoutMs: number): CheckpointWait {
  let settle: (saved: boolean) => void = () => undefined;
  const saved = new Promise<boolean>((resolve) => {
    settle = (result) => {
      clearTimeout(timer);
      off();
      resolve(result);
    };
  });
  const timer = setTimeout(() => settle(false), timeoutMs);
  const off = kernel.on("checkpoint", (event) => {
    if (event.name === name) settle(true);
  });
  return { saved, cancel: () => settle(false) };
}
