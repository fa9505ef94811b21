import type { Logger } from "@mk/logger";
import { InvalidArgumentError } from "../errors.ts";

/** What the shutdown hooks call on the kernel. */
export interface Closable {
  close(options: { stopAll: true }): Promise<void>;
}

/**
 * On the first of `signals`: remove the hooks, `close({ stopAll: true })`,
 * then re-raise the signal so the process ends the way that signal ends it
 * (exit status 128 + signal number, as the parent expects). A second signal
 * during the shutdown meets Node's default handler and ends the process at
 * once, the escape hatch when a service hangs. If the shutdown fails, it is
 * logged and the process exits with code 1. Same model as NestJS's
 * `enableShutdownHooks`.
 *
 * Returns a function that removes the hooks.
 */
export function installShutdownHooks(target: Closable, signals: readonly NodeJS.Signals[], logger: Logger): () => void {
  if (!Array.isArray(signals) || signals.some((s) => typeof s !== "string" || !s.startsWith("SIG"))) {
    throw new InvalidArgumentError(
      `expected an array of signal names such as "SIGTERM", got ${JSON.stringify(signals)}`,
    );
  }
  const unique = [...new Set(signals)];
  const handlers = new Map<NodeJS.Signals, () => void>();
  const remove = (): void => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    handlers.clear();
  };
  for (const signal of unique) {
    const handler = (): void => {
      remove();
      logger.info("received %s: stopping all services", signal);
      target.close({ stopAll: true }).then(
        () => {
          logger.info("shutdown complete");
          process.kill(process.pid, signal);
        },
        (error: unknown) => {
          logger.error("shutdown failed: %s", error instanceof Error ? error.message : String(error));
          process.exit(1);
        },
      );
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  return remove;
}
