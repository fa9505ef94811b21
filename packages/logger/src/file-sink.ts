import { makeDirsSync } from "@mk/common";
import { closeSync, fstatSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { InvalidArgumentError, SinkOpenError, SinkWriteError } from "./errors.ts";
import { lineSink } from "./line-sink.ts";
import { jsonBase, jsonLine, textLine } from "./line-format.ts";
import { DEFAULT_BUFFER_SIZE, FdWriter } from "./line-writer.ts";
import {
  checkBase,
  checkOptionalFunction,
  checkOptionalLevel,
  checkOptionsObject,
  checkPositiveInt,
} from "./sink-options.ts";
import type { Level, LogRecord, Sink } from "./types.ts";

/** Options of `fileSink`. */
export interface FileSinkOptions {
  /** Line format: the text line, pino-style JSON, or your own (must return the line with its "\n"). @default "text" */
  format?: "text" | "json" | ((record: LogRecord) => string);
  /**
   * Rotate when the file would grow past this many bytes: `app.log` becomes `app.log.1`,
   * `app.log.1` becomes `app.log.2`, … and the oldest beyond `maxFiles` is deleted.
   * Checked before each buffered write, so a file exceeds it only if one write alone does.
   * @default undefined (no rotation)
   */
  maxSize?: number;
  /** Rotated files to keep (`app.log.1` … `app.log.<maxFiles>`). @default 5 */
  maxFiles?: number;
  /** Characters buffered before a write. @default 16384 */
  bufferSize?: number;
  /** File mode when the file is created. @default 0o640 */
  mode?: number;
  /** Called with every write or rotation error; errors are also counted in `stats()`. Never thrown. */
  onError?: (error: Error) => void;
  /** The least severe level this sink writes (see `StreamSinkOptions.level`). @default undefined (all) */
  level?: Level;
  /** With `format: "json"`: the fields every line carries, as `JsonSinkOptions.base`. @default { pid, hostname } */
  base?: Readonly<Record<string, unknown>> | null;
}

/**
 * Appends lines to a file. Lines are buffered and written with `fs.writeSync` when the
 * current job ends (a microtask), when `bufferSize` characters are pending, on `flush()`, on `close()`
 * (which also fsyncs) and at process `exit` (also after `process.exit()`); only a
 * SIGKILL or a native crash can lose the last tick's lines. The parent directory is created.
 *
 * @throws {InvalidArgumentError} for a path that is not a non-empty string or bad options.
 * @throws {SinkOpenError} when the file cannot be opened for appending.
 * @example
 * const log = createLogger({ sinks: [textSink(), fileSink("/var/log/app.log", { maxSize: 10_000_000 })] });
 */
export function fileSink(path: string, options?: FileSinkOptions): Sink {
  if (typeof path !== "string" || path.length === 0 || path.includes("\0")) {
    throw new InvalidArgumentError("fileSink path", "a non-empty string without NUL", path);
  }
  checkOptionsObject("fileSink", options);
  const format = options?.format ?? "text";
  if (format !== "text" && format !== "json" && typeof format !== "function") {
    throw new InvalidArgumentError("fileSink option format", '"text", "json" or a function', format);
  }
  checkPositiveInt("fileSink option maxSize", options?.maxSize);
  checkPositiveInt("fileSink option maxFiles", options?.maxFiles, 0);
  checkPositiveInt("fileSink option bufferSize", options?.bufferSize);
  checkPositiveInt("fileSink option mode", options?.mode, 0);
  checkOptionalFunction("fileSink option onError", options?.onError);
  checkOptionalLevel(options?.level);
  checkBase("fileSink", options);
  const mode = options?.mode ?? 0o640;
  const maxSize = options?.maxSize;
  const maxFiles = options?.maxFiles ?? 5;

  const open = (): number => {
    try {
      makeDirsSync(dirname(path));
      return openSync(path, "a", mode);
    } catch (error) {
      throw new SinkOpenError(`cannot open log file "${path}" for appending`, { cause: error });
    }
  };

  const fd = open();
  let size = fstatSync(fd).size;
  const writer = new FdWriter(fd, {
    ownsFd: true,
    truncatable: true, // an append-only file this sink alone writes: a torn line is cut back off
    label: `log file "${path}"`,
    bufferSize: options?.bufferSize ?? DEFAULT_BUFFER_SIZE,
    onError: options?.onError,
  });
  if (maxSize !== undefined) {
    writer.beforeChunk = (bytes) => {
      if (size === 0 || size + bytes <= maxSize) return undefined;
      return rotate(writer, path, maxFiles, open, (fd) => (size = fstatSync(fd).size));
    };
  }
  writer.afterChunk = (bytes) => {
    size += bytes;
  };
  const base = format === "json" ? jsonBase(options?.base) : undefined;
  const toLine =
    format === "text" ? textLine : format === "json" ? (record: LogRecord) => jsonLine(record, base) : format;
  return lineSink(toLine, writer, options?.onError, options?.level);
}

// Shift app.log.(n-1) → app.log.n … app.log → app.log.1, then open a fresh app.log.
// On failure the writer keeps its current file: losing rotation beats losing lines.
function rotate(
  writer: FdWriter,
  path: string,
  maxFiles: number,
  open: () => number,
  reset: (fd: number) => void,
): number | undefined {
  try {
    closeSync(writer.fd);
    if (maxFiles === 0) {
      rmSync(path, { force: true });
    } else {
      rmSync(`${path}.${maxFiles}`, { force: true });
      for (let i = maxFiles - 1; i >= 1; i--) {
        try {
          renameSync(`${path}.${i}`, `${path}.${i + 1}`);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        }
      }
      renameSync(path, `${path}.1`);
    }
  } catch (error) {
    writer.report(new SinkWriteError(`rotation of "${path}" failed`, { cause: error }));
  }
  // Whatever happened above, the old fd is closed: reopen (appends to the old file if the rename failed).
  try {
    const fd = open();
    reset(fd);
    return fd;
  } catch (error) {
    writer.report(new SinkWriteError(`reopen of "${path}" after rotation failed`, { cause: error }));
    return undefined;
  }
}
