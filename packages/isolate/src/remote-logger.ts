import { format } from "node:util";
import type { Level, Logger } from "@mk/logger";
import { I_LOG } from "./protocol.ts";

// trace and fatal (pino's 10 and 60) exist since @mk/logger added them; a RemoteLogger has no
// trace()/fatal() methods, but its level may be set to either (e.g. inherited from the kernel's).
const ORDER: Record<Level, number> = { trace: 5, debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

/**
 * The logger a service sees inside its isolate: lines below its level are
 * dropped here (never formatted nor posted); the others are formatted with
 * printf rules (`util.format`) and posted to the kernel, whose logger for the
 * service writes them to the kernel's sinks.
 */
export class RemoteLogger implements Logger {
  readonly service: string;
  #level: Level;
  #own = false;
  readonly #parent: RemoteLogger | undefined;
  readonly #post: (message: unknown[]) => void;

  constructor(service: string, level: Level, post: (message: unknown[]) => void, parent?: RemoteLogger) {
    this.service = service;
    this.#level = level;
    this.#post = post;
    this.#parent = parent;
  }

  get level(): Level {
    return this.#own || this.#parent === undefined ? this.#level : this.#parent.level;
  }

  set level(level: Level) {
    if (!(level in ORDER))
      throw new TypeError(
        `expected level "trace" | "debug" | "info" | "warn" | "error" | "fatal", got ${String(level)}`,
      );
    this.#level = level;
    this.#own = true;
  }

  isLevelEnabled(level: Level): boolean {
    return ORDER[level] >= ORDER[this.level];
  }

  child(service: string): Logger {
    return new RemoteLogger(service, this.level, this.#post, this);
  }

  debug(msg: string, ...args: unknown[]): void {
    this.#log("debug", msg, args);
  }

  info(msg: string, ...args: unknown[]): void {
    this.#log("info", msg, args);
  }

  warn(msg: string, ...args: unknown[]): void {
    this.#log("warn", msg, args);
  }

  error(msg: string, ...args: unknown[]): void {
    this.#log("error", msg, args);
  }

  #log(level: Level, msg: string, args: unknown[]): void {
    if (ORDER[level] < ORDER[this.level]) return;
    this.#post([I_LOG, level, this.service, args.length === 0 ? String(msg) : format(msg, ...args)]);
  }
}
