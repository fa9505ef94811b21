// Shared fixtures for the lifecycle suites: a capturing logger, a deferred,
// a call recorder, and a small in-memory StateStore that can be told to fail.
import { createLogger, type Level, type Logger, type LogRecord } from "@mk/logger";
import type { LoadedState, SaveMeta, StateStore } from "@mk/state";
import { Kernel, type KernelOptions, type Reply, type Service, type ServiceContext, type StatusChange } from "@mk/core";

export interface CapturedLogger {
  logger: Logger;
  records: LogRecord[];
  /** `[service] message` per record. */
  lines(): string[];
}

export function captureLogger(level: Level = "debug"): CapturedLogger {
  const records: LogRecord[] = [];
  const logger = createLogger({ level, sinks: [(r) => void records.push(r)] });
  return { logger, records, lines: () => records.map((r) => `[${r.service}] ${r.message}`) };
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Records `start:x` / `stop:x` in call order across services. */
export class Recorder {
  readonly calls: string[] = [];

  service(name: string, dependencies: string[] = [], extra: Partial<Service> = {}): Service {
    const calls = this.calls;
    return {
      name,
      dependencies,
      start(ctx: ServiceContext) {
        calls.push(`start:${name}`);
        return extra.start?.(ctx);
      },
      stop() {
        calls.push(`stop:${name}`);
        return extra.stop?.();
      },
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "start" && k !== "stop")),
    };
  }

  of(kind: "start" | "stop"): string[] {
    return this.calls.filter((c) => c.startsWith(`${kind}:`)).map((c) => c.slice(kind.length + 1));
  }
}

/** A real (JSON round-tripping) in-memory store whose saves and loads can be made to fail. */
export class TestStore implements StateStore {
  readonly data: Map<string, { json: string; version?: string }> = new Map();
  readonly saves: { name: string; state: unknown; version?: string }[] = [];
  failSave: Error | undefined;
  failLoad: Error | undefined;
  loads: number = 0;

  async save(name: string, state: unknown, meta?: SaveMeta): Promise<void> {
    await Promise.resolve();
    if (this.failSave !== undefined) throw this.failSave;
    const entry: { json: string; version?: string } = { json: JSON.stringify(state) };
    if (meta?.version !== undefined) entry.version = meta.version;
    this.data.set(name, entry);
    const record: { name: string; state: unknown; version?: string } = { name, state: JSON.parse(entry.json) };
    if (meta?.version !== undefined) record.version = meta.version;
    this.saves.push(record);
  }

  async load(name: string): Promise<LoadedState | undefined> {
    this.loads += 1;
    await Promise.resolve();
    if (this.failLoad !== undefined) throw this.failLoad;
    const entry = this.data.get(name);
    if (entry === undefined) return undefined;
    const loaded: LoadedState = { state: JSON.parse(entry.json) };
    if (entry.version !== undefined) loaded.version = entry.version;
    return loaded;
  }

  async exists(name: string): Promise<boolean> {
    return this.data.has(name);
  }

  async delete(name: string): Promise<void> {
    this.data.delete(name);
  }

  async list(): Promise<string[]> {
    return [...this.data.keys()].sort();
  }

  // The StateStore contract has close() since @mk/state added locks; this store holds nothing.
  async close(): Promise<void> {}
}

/** A kernel with a capturing logger, checkpoints off unless asked, and its status events recorded. */
export function testKernel(options: KernelOptions = {}): {
  kernel: Kernel;
  log: CapturedLogger;
  statuses: StatusChange[];
} {
  const log = captureLogger();
  const kernel = new Kernel({ checkpointIntervalMs: 0, logger: log.logger, ...options });
  const statuses: StatusChange[] = [];
  kernel.on("status", (change) => statuses.push(change));
  return { kernel, log, statuses };
}

/** A counter service: handles "inc", exports/imports its count. */
export interface Counter {
  name: string;
  version: string;
  count: number;
  handle(): Reply;
  exportState(): { count: number };
  importState(state: unknown, info?: { fromVersion?: string }): void;
}

export function counter(name: string, version = "1", initial = 0): Counter {
  const svc: Counter = {
    name,
    version,
    count: initial,
    handle() {
      svc.count += 1;
      return { code: 0, message: "ok", data: svc.count };
    },
    exportState() {
      return { count: svc.count };
    },
    importState(state: unknown) {
      svc.count = (state as { count: number }).count;
    },
  };
  return svc;
}
