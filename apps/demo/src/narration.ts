import type { Kernel } from "@mk/core";
import type { Logger } from "@mk/logger";

/**
 * Tells the parts of the story the kernel's own log keeps at debug level:
 * every checkpoint, and each status change (at debug: the kernel already
 * says "started"/"stopped"). Returns a function that unsubscribes.
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
    kernel.on("checkpoint-failed", (failed) => {
      log.warn("checkpoint of %s failed, retried at the next tick: %s", failed.name, failed.error.message);
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}

/**
 * Resolves with the name of the next service a checkpoint saves, or
 * `undefined` after `timeoutMs`.
 */
export function nextCheckpoint(kernel: Kernel, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(undefined);
    }, timeoutMs);
    const off = kernel.on("checkpoint", (saved) => {
      clearTimeout(timer);
      off();
      resolve(saved.name);
    });
  });
}
