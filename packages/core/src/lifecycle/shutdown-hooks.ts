import { constants } from "node:os";
import { describeThrown } from "@mk/common";
import type { Logger } from "@mk/logger";
import { InvalidArgumentError } from "../errors.ts";

/** What the shutdown hooks call on the kernel. */
export interface Closable {
  close(options: { stopAll: true }): Promise<void>;
}

/**
 * On the first of `signals`: remove the hooks, `close({ stopAll: true })`,
 * then end the process the way that signal ends it: re-raised, so the parent
 * sees the signal, when nothing else listens to it; else (the app has its own
 * `process.on("SIGTERM")`, as HTTP apps do, which would catch a re-raised
 * signal and keep the process up) `process.exit(128 + signal number)`, the
 * conventional status. A second signal during the shutdown ends the process
 * at once (Node's default action, or the same exit when the app listens too),
 * the escape hatch when a service hangs. If the shutdown fails, it is logged
 * and the process exits with code 1. Same model as NestJS's
 * `enableShutdownHooks`.
 *
 * Returns a function that removes the hooks.
 */
export function installShutdownHooks(target: Closable, signals: readonly NodeJS.Signals[], logger: Logger): () => void {
  if (!Array.isArray(signals) || signals.some((s) => typeof s !== "string" || !(s in constants.signals))) {
    throw new InvalidArgumentError(
      `expected an array of signal names such as "SIGTERM", got ${describeThrown(signals, 200)}`,
    );
  }
  const unique = [...new Set(signals)];
  const handlers = new Map<NodeJS.Signals, () => void>();
  const remove = (): void => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    handlers.clear();
  };
  // Kept apart from `handlers`: the kernel removes its hooks while closing, and these must outlive that.
  const escapes = new Map<NodeJS.Signals, () => void>();
  const removeEscapes = (): void => {
    for (const [signal, escape] of escapes) process.removeListener(signal, escape);
    escapes.clear();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    remove();
    // The app's own listeners would swallow a second signal: give it the exit it asks for.
    for (const other of unique) {
      if (process.listenerCount(other) === 0) continue;
      const escape = (): void => exitBy(other);
      escapes.set(other, escape);
      process.once(other, escape);
    }
    logger.info("received %s: stopping all services", signal);
    target.close({ stopAll: true }).then(
      () => {
        removeEscapes();
        logger.info("shutdown complete");
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        else exitBy(signal);
      },
      (error: unknown) => {
        removeEscapes();
        logger.error("shutdown failed: %s", describeThrown(error));
        process.exit(1);
      },
    );
  };
  for (const signal of unique) {
    const handler = (): void => onSignal(signal);
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  return remove;
}

/** Exit status 128 + the signal's number: what a shell reports for a process the signal ended. */
function exitBy(signal: NodeJS.Signals): never {
  process.exit(128 + (constants.signals[signal] ?? 0));
}
