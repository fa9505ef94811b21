import { textSink } from "@mk/logger";
import type { Sink } from "@mk/logger";

/**
 * The demo's output: text lines in the reference format
 * `[YYYY-MM-DD HH:mm:ss.SSS] [LEVEL] [service] message` on stdout.
 */
export function demoSink(): Sink {
  return textSink();
}
