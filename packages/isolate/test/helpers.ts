// Shared parts of the isolate suites: fixture URLs, a kernel whose log lines
// are captured, and a bounded wait.
import { Kernel, type KernelOptions } from "@mk/core";
import { createLogger, type LogRecord } from "@mk/logger";

export const fixture = (file: string): URL => new URL(`./fixtures/${file}`, import.meta.url);

export interface TestKernel {
  kernel: Kernel;
  records: LogRecord[];
  lines(): string[];
}

export function testKernel(options: KernelOptions = {}): TestKernel {
  const records: LogRecord[] = [];
  const logger = createLogger({ level: "info", sinks: [(r) => void records.push(r)] });
  const kernel = new Kernel({ logger, checkpointIntervalMs: 0, ...options });
  return { kernel, records, lines: () => records.map((r) => `[${r.service}] ${r.message}`) };
}

/** Polls `check` every 10 ms until it is true; fails after `timeoutMs` (generous: the machine may be busy). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const MODES = ["thread", "process"] as const;
