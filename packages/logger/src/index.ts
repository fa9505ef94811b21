export type { Level, LogRecord, Logger, Sink } from "./types.ts";
