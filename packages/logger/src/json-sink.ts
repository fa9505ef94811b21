import type { LineStream } from "./line-writer.ts";
import { jsonBase, jsonLine } from "./line-format.ts";
import { checkBase } from "./sink-options.ts";
import { streamSink, type StreamSinkOptions } from "./text-sink.ts";
import type { Sink } from "./types.ts";

/** Options of `jsonSink`. */
export interface JsonSinkOptions extends StreamSinkOptions {
  /**
   * Fields every line carries after `level` and `time`, as pino's `base`: by default this
   * process's `pid` and `hostname`; `null` for none (pino's `base: null`); or your own object.
   * @default { pid: process.pid, hostname: os.hostname() }
   */
  base?: Readonly<Record<string, unknown>> | null;
}

/**
 * JSON lines with pino's field names, so pino-pretty and log shippers read them:
 * `{"level":30,"time":1745689620801,"pid":4242,"hostname":"web-1","service":"api",…fields,"msg":"count is 10"}`.
 * Levels are pino's numbers (trace 10, debug 20, info 30, warn 40, error 50, fatal 60); `time` is epoch ms.
 * Fields named level, time, service, msg or like a `base` field are left out; an Error
 * (the `err` of `log.error(err, "msg")` or anywhere in the fields) is written as pino's
 * serializer writes it (`{type, message, stack, …}` with the causes), bigints as strings,
 * circular values as a string saying so. Buffering as in `textSink`.
 *
 * @param stream anything with `write(string)`, or a file descriptor. @default stdout (fd 1)
 * @throws {InvalidArgumentError} when `stream` or `options` are not of the documented types.
 */
export function jsonSink(stream?: LineStream | number, options?: JsonSinkOptions): Sink {
  checkBase("jsonSink", options);
  const base = jsonBase(options?.base);
  return streamSink("jsonSink", (record) => jsonLine(record, base), stream, options);
}
