import { SinkWriteError } from "./errors.ts";
import { type LineWriter, report } from "./line-writer.ts";
import { LEVEL_VALUES } from "./levels.ts";
import type { Level, LogRecord, Sink, SinkStats } from "./types.ts";

/** A sink that formats each record into a line and hands it to a writer. */
export function lineSink(
  format: (record: LogRecord) => string,
  writer: LineWriter,
  onError: ((error: Error) => void) | undefined,
  level: Level | undefined,
): Sink {
  // Below the sink's own level a record is skipped (not an error, not a drop).
  const min = level === undefined ? 0 : LEVEL_VALUES[level];
  let closed = false;
  let errors = 0;
  let dropped = 0;
  const sink = (record: LogRecord): void => {
    if (min !== 0 && (LEVEL_VALUES[record.level] ?? 0) < min) return;
    if (closed) {
      dropped++;
      return;
    }
    let line: string;
    try {
      line = format(record);
    } catch (error) {
      // Only a record that is not a LogRecord gets here (a direct call with garbage).
      errors++;
      dropped++;
      report(onError, new SinkWriteError("could not format the record", { cause: error }));
      return;
    }
    writer.write(line);
  };
  sink.flush = (): void => writer.flush();
  sink.close = (): void => {
    if (closed) return;
    closed = true;
    writer.close();
  };
  sink.stats = (): SinkStats => ({ errors: errors + writer.errors, dropped: dropped + writer.dropped });
  return sink;
}
