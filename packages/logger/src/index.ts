export { createLogger } from "./logger.ts";
export type { LoggerOptions } from "./logger.ts";
export { textSink } from "./text-sink.ts";
export type { StreamSinkOptions } from "./text-sink.ts";
export { jsonSink } from "./json-sink.ts";
export type { JsonSinkOptions } from "./json-sink.ts";
export type { LineStream } from "./line-writer.ts";
export { LEVELS, LEVEL_VALUES, isLevel, levelValue } from "./levels.ts";
export { formatTimestamp } from "./timestamp.ts";
export {
  LoggerError,
  InvalidLevelError,
  InvalidArgumentError,
  HttpSinkError,
  SinkOpenError,
  SinkWriteError,
} from "./errors.ts";
export type { LoggerErrorCode } from "./errors.ts";
export type { Level, LogRecord, Logger, LoggerStats, ManagedLogger, Sink, SinkStats } from "./types.ts";
export { fileSink } from "./file-sink.ts";
export type { FileSinkOptions } from "./file-sink.ts";
export { httpSink } from "./http-sink.ts";
export type { HttpSink, HttpSinkOptions, HttpSinkStats } from "./http-sink.ts";
