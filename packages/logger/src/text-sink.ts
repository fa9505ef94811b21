import { lineSink } from "./line-sink.ts";
import { type LineStream, writerFor } from "./line-writer.ts";
import { textLine } from "./line-format.ts";
import { checkStreamSinkArgs } from "./sink-options.ts";
import type { Level, LogRecord, Sink } from "./types.ts";

/** Options of `textSink` and `jsonSink`. */
export interface StreamSinkOptions {
  /**
   * For a stream: collect the lines of one synchronous run of code and write them with one `write()` call.
   * File descriptors (and the default stdout) are always buffered this way.
   * @default false
   */
  buffered?: boolean;
  /** Called with every write error; errors are also counted in `stats()`. Never thrown. */
  onError?: (error: Error) => void;
  /**
   * The least severe level this sink writes (records below it are skipped), on top of
   * the logger's level: e.g. a logger at "debug" with stdout at "info" and a file at "debug".
   * @default undefined (every record the logger passes)
   */
  level?: Level;
}

/**
 * Text lines `[YYYY-MM-DD HH:mm:ss.SSS] [LEVEL] [service] message` (local time), then
 * ` {"field":…}` when the call had fields.
 *
 * Without `stream` (or with a file descriptor number) lines are buffered and written with
 * `fs.writeSync` when the current job ends (a microtask), when 16 KiB are pending, on `flush()`/`close()`
 * and at process `exit`. A stream gets one `write(line)` per record unless `buffered`.
 *
 * @param stream anything with `write(string)`, or a file descriptor. @default stdout (fd 1)
 * @throws {InvalidArgumentError} when `stream` or `options` are not of the documented types.
 * @example
 * const log = createLogger({ service: "api", sinks: [textSink()] });
 * log.info("count is %d", 10); // [2025-04-26 19:47:00.801] [INFO] [api] count is 10
 */
export function textSink(stream?: LineStream | number, options?: StreamSinkOptions): Sink {
  return streamSink("textSink", textLine, stream, options);
}

/** The body of `textSink` and `jsonSink`, which differ only in the line they format. */
export function streamSink(
  name: string,
  format: (record: LogRecord) => string,
  stream: LineStream | number | undefined,
  options: StreamSinkOptions | undefined,
): Sink {
  checkStreamSinkArgs(name, stream, options);
  return lineSink(
    format,
    writerFor(stream, { buffered: options?.buffered, onError: options?.onError }),
    options?.onError,
    options?.level,
  );
}
