import { isLevel, LEVELS, type Level, type Logger } from "@mk/logger";
import { CliError } from "../errors.ts";

/**
 * A logger handed to the kernel that remembers the child made for each service, so
 * `mk log-level LEVEL NAME` can change one service's level at run time.
 */
export class TrackingLogger implements Logger {
  readonly #root: Logger;
  readonly #children = new Map<string, Logger[]>();

  constructor(root: Logger) {
    this.#root = root;
  }

  get level(): Level {
    return this.#root.level;
  }

  set level(level: Level) {
    this.#root.level = level;
  }

  debug(msg: string, ...args: unknown[]): void {
    this.#root.debug(msg, ...args);
  }

  info(msg: string, ...args: unknown[]): void {
    this.#root.info(msg, ...args);
  }

  warn(msg: string, ...args: unknown[]): void {
    this.#root.warn(msg, ...args);
  }

  error(msg: string, ...args: unknown[]): void {
    this.#root.error(msg, ...args);
  }

  child(service: string): Logger {
    const child = this.#root.child(service);
    const list = this.#children.get(service) ?? [];
    list.push(child);
    this.#children.set(service, list);
    return child;
  }

  /**
   * Sets the level of every logger, or of one service's loggers only.
   * @throws {CliError} `INVALID_ARGUMENT` for an unknown level or a name without a logger.
   */
  setLevel(level: string, name?: string): void {
    if (!isLevel(level)) {
      throw new CliError(
        "INVALID_ARGUMENT",
        `log level: expected one of ${LEVELS.join(", ")}, got ${JSON.stringify(level)}`,
      );
    }
    if (name === undefined) {
      // Every child follows the root again, so one command sets the whole tree.
      for (const list of this.#children.values()) for (const child of list) child.resetLevel?.();
      this.#root.level = level;
      return;
    }
    const list = this.#children.get(name);
    if (list === undefined) throw new CliError("INVALID_ARGUMENT", `log level: no service "${name}" has a logger`);
    for (const child of list) child.level = level;
  }
}
