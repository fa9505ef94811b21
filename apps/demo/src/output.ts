import { textSink } from "@mk/logger";
import type { LogRecord, Sink } from "@mk/logger";

/**
 * The kernel logs a failed state load at ERROR and then throws it; the demo
 * catches it and reports it again with the file and what to do. Users get
 * that one line, not the same failure twice.
 */
function reportedByTheDemo(record: LogRecord): boolean {
  return (
    record.level === "error" &&
    record.service === "kernel" &&
    record.message.startsWith("could not load the saved state of service")
  );
}

/**
 * The demo's output: text lines in the reference format
 * `[YYYY-MM-DD HH:mm:ss.SSS] [LEVEL] [service] message` on stdout.
 */
export function demoSink(): Sink {
  const text = textSink();
  const sink: Sink = (record) => {
    if (!reportedByTheDemo(record)) text(record);
  };
  sink.flush = () => text.flush?.();
  sink.close = () => text.close?.();
  sink.stats = () => text.stats?.() ?? { errors: 0, dropped: 0 };
  return sink;
}
