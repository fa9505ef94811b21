import type { LineStream } from "./line-writer.ts";
import { jsonLine } from "./line-format.ts";
import { streamSink, type StreamSinkOptions } from "./text-sink.ts";
import type { Sink } from "./types.ts";

/**
 * JSON lines with pino's field names, so pino-pretty and log shippers read them:
 * `{"level":30,"time":1745689620801,"service":"api",…fields,"msg":"count is 10"}`.
 * Levels are pino's numbers (debug 20, info 30, warn 40, error 50); `time` is epoch ms.
 * Fields named level, time, service or msg are left out; Errors in fields become
 * `{type, message, stack}`, bigints strings, circular values a string saying so.
 * Buffering as in `textSink`.
 *
 * @param stream anything with `write(string)`, or a file descriptor. @default stdout (fd 1)
 * @throws {InvalidArgumentError} when `stream` or `options` are not of the documented types.
 */
export function jsonSink(stream?: LineStream | number, options?: StreamSinkOptions): Sink {
  return streamSink("jsonSink", jsonLine, stream, options);
}
