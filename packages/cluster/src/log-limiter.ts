import type { Logger } from "@mk/logger";

/**
 * Warns about bad messages from the wire without letting a flood of them
 * flood the log: at most one line per `intervalMs`, the next line saying how
 * many were suppressed in between.
 */
export class LogLimiter {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #last = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(logger: Logger, intervalMs = 1000) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  warn(message: string, ...args: unknown[]): void {
    const now = performance.now();
    if (now - this.#last < this.#intervalMs) {
      this.#suppressed++;
      return;
    }
    this.#last = now;
    if (this.#suppressed > 0) {
      this.#logger.warn(`${message} (and %d similar lines suppressed)`, ...args, this.#suppressed);
      this.#suppressed = 0;
    } else {
      this.#logger.warn(message, ...args);
    }
  }
}
