// at most one warning per second per kind of bad wire message.
import type { Logger } from "@mk/logger";

/**
 * Warns about bad messages from the wire without letting a flood of them
 * flood the log: per kind of line (its format string), at most one line per
 * `intervalMs`, the next one saying how many were suppressed in between.
 */
export class LogLimiter {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #kinds = new Map<string, { last: number; suppressed: number }>();

  constructor(logger: Logger, intervalMs = 1000) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  warn(format: string, ...args: unknown[]): void {
    const now = performance.now();
    let kind = this.#kinds.get(format);
    if (kind === undefined) this.#kinds.set(format, (kind = { last: Number.NEGATIVE_INFINITY, suppressed: 0 }));
    if (now - kind.last < this.#intervalMs) {
      kind.suppressed++;
      return;
    }
    kind.last = now;
    if (kind.suppressed > 0) {
      this.#logger.warn(`${format} (and %d similar lines suppressed)`, ...args, kind.suppressed);
      kind.suppressed = 0;
    } else {
      this.#logger.warn(format, ...args);
    }
  }
}
