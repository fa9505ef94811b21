/** The levels, least severe first, with pino's numbers: trace 10, debug 20, info 30, warn 40, error 50, fatal 60. */
export type Level = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/** One log line, as every sink receives it. */
export interface LogRecord {
  /** Milliseconds since the epoch (or a Date). Records made by `createLogger` carry a number. */
  time: Date | number;
  level: Level;
  service: string;
  /** The formatted message (printf arguments already applied). */
  message: string;
  /**
   * The trailing plain object of the call, if any (see the README: "Fields"). An `Error` given to
   * the call (pino's `log.error(err, "msg")`, or after the printf arguments: `log.error("failed", err)`)
   * is here as `err`.
   */
  fields?: Record<string, unknown> | undefined;
}

/** Counters a sink may report through its optional `stats()`. */
export interface SinkStats {
  /** Errors the sink met on its own (a failed write, a failed POST); never thrown to the caller. */
  errors: number;
  /** Records the sink gave up on (buffer full, retries exhausted, write failed). */
  dropped: number;
}

/**
 * Receives every record that passes the logger's level. Any plain function is a sink.
 * Must not throw; if it does, the logger counts it and carries on with the other sinks.
 *
 * Sinks that buffer expose `flush()` (write out what is buffered) and `close()`
 * (flush, then release the file, timer or socket); both may return a promise.
 */
export interface Sink {
  (record: LogRecord): void;
  /** Write out everything buffered so far. */
  flush?(): void | Promise<void>;
  /** Flush, then release resources; records that arrive afterwards are dropped and counted. */
  close?(): void | Promise<void>;
  /** The sink's own counters. */
  stats?(): SinkStats;
}

/** What `logger.stats()` reports: the logger's own counters plus the sum over its sinks. */
export interface LoggerStats {
  /** Records that passed the level and were handed to the sinks. */
  records: number;
  /** Exceptions thrown by sinks (caught by the logger) plus errors sinks report in `stats()`. */
  sinkErrors: number;
  /** Records the sinks dropped (sum of their `stats().dropped`). */
  dropped: number;
}

/**
 * The logging interface the kernel and services use. The first six members are the
 * contract every logger must have (so you can hand the kernel your own adapter); the
 * optional ones are what `createLogger`'s loggers add (see `ManagedLogger`).
 */
export interface Logger {
  debug(msg: string, ...args: unknown[]): void;
  info(msg: string, ...args: unknown[]): void;
  warn(msg: string, ...args: unknown[]): void;
  error(msg: string, ...args: unknown[]): void;
  /** Optional in the contract (an adapter may lack it); `createLogger`'s loggers have it. */
  trace?(msg: string, ...args: unknown[]): void;
  /** Optional in the contract (an adapter may lack it); `createLogger`'s loggers have it. */
  fatal?(msg: string, ...args: unknown[]): void;
  /** A logger for one service; follows this logger's level until its own is set. */
  child(service: string): Logger;
  /** Settable at run time. */
  level: Level;
  readonly service?: string;
  readonly hasOwnLevel?: boolean;
  resetLevel?(): void;
  isLevelEnabled?(level: Level): boolean;
  flush?(): Promise<void>;
  close?(): Promise<void>;
  stats?(): LoggerStats;
}

/** What `createLogger` returns: a `Logger` that owns its sinks. Children share the parent's sinks and counters. */
export interface ManagedLogger extends Logger {
  /**
   * Log at that level, printf-style (`log.info("count is %d", 10, { reqId: 7 })`) or pino's way
   * with an error first (`log.error(err, "save of %s failed", name)`). An `Error` after the printf
   * arguments (`log.error("save failed", err)`) or first becomes the record's `err` field. Never throws.
   */
  trace(msg: string, ...args: unknown[]): void;
  trace(err: Error, msg?: string, ...args: unknown[]): void;
  debug(msg: string, ...args: unknown[]): void;
  debug(err: Error, msg?: string, ...args: unknown[]): void;
  info(msg: string, ...args: unknown[]): void;
  info(err: Error, msg?: string, ...args: unknown[]): void;
  warn(msg: string, ...args: unknown[]): void;
  warn(err: Error, msg?: string, ...args: unknown[]): void;
  error(msg: string, ...args: unknown[]): void;
  error(err: Error, msg?: string, ...args: unknown[]): void;
  fatal(msg: string, ...args: unknown[]): void;
  fatal(err: Error, msg?: string, ...args: unknown[]): void;
  /** A logger for one service; follows this logger's level until its own is set. Shares the sinks. */
  child(service: string): ManagedLogger;
  /**
   * Settable at run time. Reading gives the effective level (own, or inherited from the parent).
   * Setting it makes this logger independent of its parent; `resetLevel()` makes it inherit again.
   * @throws {InvalidLevelError} when set to anything but "trace" | "debug" | "info" | "warn" | "error" | "fatal".
   */
  level: Level;
  /** The service name every record of this logger carries. */
  readonly service: string;
  /** Whether this logger currently has its own level (true) or follows its parent (false). */
  readonly hasOwnLevel: boolean;
  /** Forget this logger's own level and follow the parent's again (no-op on a root logger). */
  resetLevel(): void;
  /**
   * Whether a call at `level` would currently reach the sinks.
   * @throws {InvalidLevelError} for a level that is not a level name.
   */
  isLevelEnabled(level: Level): boolean;
  /** Flush every sink that buffers; resolves when they are done. Never rejects. */
  flush(): Promise<void>;
  /** Flush and close every sink (once; later calls return the same promise); later records are dropped and counted. Never rejects. */
  close(): Promise<void>;
  /** Counters shared by this logger, its parent and its children (they share the sinks). */
  stats(): LoggerStats;
}
