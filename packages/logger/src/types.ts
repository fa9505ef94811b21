export type Level = "debug" | "info" | "warn" | "error";

/** One log line, as every sink receives it. */
export interface LogRecord {
  /** Milliseconds since the epoch (or a Date). */
  time: Date | number;
  level: Level;
  service: string;
  /** The formatted message (printf arguments already applied). */
  message: string;
  fields?: Record<string, unknown>;
}

/** Receives every record that passes the logger's level. Must not throw; if it does, the logger counts it. */
export type Sink = (record: LogRecord) => void;

export interface Logger {
  debug(msg: string, ...args: unknown[]): void;
  info(msg: string, ...args: unknown[]): void;
  warn(msg: string, ...args: unknown[]): void;
  error(msg: string, ...args: unknown[]): void;
  /** A logger for one service; follows this logger's level until its own is set. */
  child(service: string): Logger;
  /** Settable at run time. */
  level: Level;
}
