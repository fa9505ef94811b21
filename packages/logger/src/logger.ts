import { format, types } from "node:util";
import { InvalidArgumentError } from "./errors.ts";
import { countSpecifiers, formatMessage, isPlainObject } from "./format.ts";
import { assertLevel, LEVEL_VALUES } from "./levels.ts";
import { checkOptionalFunction, checkOptionsObject } from "./sink-options.ts";
import { textSink } from "./text-sink.ts";
import type { Level, LogRecord, LoggerStats, ManagedLogger, Sink } from "./types.ts";

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** The service name of the root logger's records. @default "mk" */
  service?: string;
  /** The root level; children follow it until their own is set. @default "info" */
  level?: Level;
  /** Where records go, in order. @default [textSink()] (stdout) */
  sinks?: Sink[];
  /** Called when a sink throws (the logger catches, counts and goes on with the other sinks). */
  onError?: (error: unknown, sink: Sink) => void;
}

// What a root logger and all its children share.
interface Shared {
  readonly sinks: readonly Sink[];
  readonly onError: ((error: unknown, sink: Sink) => void) | undefined;
  // Bumped on every level change anywhere in the tree, so a logger re-derives
  // its effective level lazily instead of parents tracking their children.
  epoch: number;
  records: number;
  thrown: number;
  // Records dropped because the logger was closed, or because a sink or onError
  // logged through this tree more than MAX_DEPTH levels deep (a feedback loop).
  dropped: number;
  depth: number;
  closing: Promise<void> | undefined;
}

const NAME_OF: Readonly<Record<number, Level>> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};
// A sink or onError may log (e.g. "sink X failed"); deeper than this is a loop.
const MAX_DEPTH = 4;
const TRACE = 10;
const DEBUG = 20;
const INFO = 30;
const WARN = 40;
const ERROR = 50;
const FATAL = 60;

class MkLogger implements ManagedLogger {
  readonly service: string;
  readonly #shared: Shared;
  readonly #parent: MkLogger | undefined;
  #own: number; // 0: follow the parent
  #effective = INFO;
  #epoch = -1;

  constructor(shared: Shared, parent: MkLogger | undefined, service: string, own: number) {
    this.#shared = shared;
    this.#parent = parent;
    this.service = service;
    this.#own = own;
  }

  #threshold(): number {
    if (this.#epoch === this.#shared.epoch) return this.#effective;
    this.#effective = this.#own !== 0 ? this.#own : this.#parent !== undefined ? this.#parent.#threshold() : INFO;
    this.#epoch = this.#shared.epoch;
    return this.#effective;
  }

  get level(): Level {
    return NAME_OF[this.#threshold()] as Level;
  }

  set level(level: Level) {
    this.#own = LEVEL_VALUES[assertLevel(level)];
    this.#shared.epoch++;
  }

  get hasOwnLevel(): boolean {
    return this.#own !== 0;
  }

  resetLevel(): void {
    if (this.#parent === undefined) return; // a root has nothing to follow
    this.#own = 0;
    this.#shared.epoch++;
  }

  isLevelEnabled(level: Level): boolean {
    return LEVEL_VALUES[assertLevel(level)] >= this.#threshold();
  }

  // The level is checked before anything else, so a filtered-out call costs a
  // compare (the args array is not touched).
  trace(msg: string | Error, ...args: unknown[]): void {
    if (this.#threshold() <= TRACE) this.#emit("trace", msg, args);
  }

  debug(msg: string | Error, ...args: unknown[]): void {
    if (this.#threshold() <= DEBUG) this.#emit("debug", msg, args);
  }

  info(msg: string | Error, ...args: unknown[]): void {
    if (this.#threshold() <= INFO) this.#emit("info", msg, args);
  }

  warn(msg: string | Error, ...args: unknown[]): void {
    if (this.#threshold() <= WARN) this.#emit("warn", msg, args);
  }

  error(msg: string | Error, ...args: unknown[]): void {
    if (this.#threshold() <= ERROR) this.#emit("error", msg, args);
  }

  fatal(msg: string | Error, ...args: unknown[]): void {
    if (this.#threshold() <= FATAL) this.#emit("fatal", msg, args);
  }

  #emit(level: Level, msg: unknown, args: unknown[]): void {
    const shared = this.#shared;
    if (shared.closing !== undefined || shared.depth >= MAX_DEPTH) {
      shared.dropped++;
      return;
    }
    let fields: Record<string, unknown> | undefined;
    let message: string;
    try {
      let err: unknown;
      let messageOfErr = false;
      if (typeof msg === "object" && msg !== null && isError(msg)) {
        // pino's form: log.error(err) or log.error(err, "msg %s", arg).
        err = msg;
        if (typeof args[0] === "string") {
          msg = args[0];
          args = args.slice(1);
        } else {
          messageOfErr = true;
        }
      }
      let n = args.length;
      if (n > 0) {
        const last = args[n - 1];
        // A trailing plain object that no specifier consumes is the record's fields.
        if (isPlainObject(last) && (typeof msg !== "string" || countSpecifiers(msg) < n)) {
          fields = last;
          args = args.slice(0, --n);
        }
      }
      if (err === undefined && n > 0) {
        // An Error after the arguments the specifiers take: log.error("save failed", err).
        const last = args[n - 1];
        if (
          typeof last === "object" &&
          last !== null &&
          isError(last) &&
          (typeof msg !== "string" || countSpecifiers(msg) < n)
        ) {
          err = last;
          args = args.slice(0, --n);
        }
      }
      if (err !== undefined) {
        // A field the caller named err wins over the argument (as the record's own fields win).
        if (fields === undefined) fields = { err };
        else if (!Object.prototype.hasOwnProperty.call(fields, "err")) fields = { ...fields, err };
      }
      if (messageOfErr) {
        // log.error(err): pino's message is the error's own.
        const own = String((err as Error).message);
        message = n === 0 ? own : format("%s", own, ...args);
      } else {
        message = typeof msg === "string" ? formatMessage(msg, args) : format(msg, ...args);
      }
    } catch (error) {
      // util.format runs user code (inspect hooks, getters, toString); it must not break the caller.
      message = `[unformattable message: ${error instanceof Error ? error.message : String(error)}]`;
    }
    const record: LogRecord = { time: Date.now(), level, service: this.service, message, fields };
    shared.records++;
    const sinks = shared.sinks;
    shared.depth++;
    for (let i = 0; i < sinks.length; i++) {
      const sink = sinks[i] as Sink;
      try {
        sink(record);
      } catch (error) {
        shared.thrown++;
        if (shared.onError !== undefined) {
          try {
            shared.onError(error, sink);
          } catch {
            // The error callback is the last stop; its own throw must not reach the log call.
          }
        }
      }
    }
    shared.depth--;
  }

  child(service: string): ManagedLogger {
    checkService(service);
    return new MkLogger(this.#shared, this, service, 0);
  }

  flush(): Promise<void> {
    return eachSink(this.#shared, "flush");
  }

  close(): Promise<void> {
    const shared = this.#shared;
    shared.closing ??= eachSink(shared, "close");
    return shared.closing;
  }

  stats(): LoggerStats {
    const shared = this.#shared;
    let sinkErrors = shared.thrown;
    let dropped = shared.dropped;
    for (const sink of shared.sinks) {
      if (typeof sink.stats !== "function") continue;
      try {
        const s = sink.stats();
        sinkErrors += s.errors;
        dropped += s.dropped;
      } catch (error) {
        sinkErrors++;
        notify(shared, error, sink);
      }
    }
    return { records: shared.records, sinkErrors, dropped };
  }
}

function notify(shared: Shared, error: unknown, sink: Sink): void {
  if (shared.onError === undefined) return;
  try {
    shared.onError(error, sink);
  } catch {
    // See #emit: the error callback's own throw goes nowhere on purpose.
  }
}

async function eachSink(shared: Shared, method: "flush" | "close"): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const sink of shared.sinks) {
    const fn = sink[method];
    if (typeof fn !== "function") continue;
    pending.push(
      (async () => {
        try {
          await fn.call(sink);
        } catch (error) {
          shared.thrown++;
          notify(shared, error, sink);
        }
      })(),
    );
  }
  await Promise.all(pending);
}

/** An Error, from this realm or another (a vm context, a worker's structured clone). */
function isError(value: object): value is Error {
  if (types.isNativeError(value)) return true;
  try {
    return value instanceof Error;
  } catch {
    return false; // a Proxy whose getPrototypeOf trap throws: not an Error we can read
  }
}

function checkService(service: unknown): asserts service is string {
  if (typeof service !== "string" || service.length === 0) {
    throw new InvalidArgumentError("service name", "a non-empty string", service);
  }
}

/**
 * A root logger. Children (`logger.child("svc")`) share its sinks and counters and
 * follow its level until they get their own.
 *
 * @throws {InvalidArgumentError} for options of the wrong type (a non-string service,
 *   sinks that are not functions).
 * @throws {InvalidLevelError} for a level that is not "trace" | "debug" | "info" | "warn" | "error" | "fatal".
 * @example
 * const log = createLogger({ service: "kernel", level: "info" });
 * const echo = log.child("echo");
 * echo.info("count is %d", 10, { reqId: 7 });
 * echo.level = "debug"; // only echo; log.level = "warn" would move every child that follows it
 * await log.close();    // flush and close the sinks before exit
 */
export function createLogger(options?: LoggerOptions): ManagedLogger {
  checkOptionsObject("createLogger", options);
  const service = options?.service ?? "mk";
  checkService(service);
  const level = options?.level === undefined ? "info" : assertLevel(options.level);
  const sinks = options?.sinks ?? [textSink()];
  if (!Array.isArray(sinks) || !sinks.every((s) => typeof s === "function")) {
    throw new InvalidArgumentError("createLogger option sinks", "an array of functions", sinks);
  }
  checkOptionalFunction("createLogger option onError", options?.onError);
  const shared: Shared = {
    sinks: [...sinks],
    onError: options?.onError,
    epoch: 0,
    records: 0,
    thrown: 0,
    dropped: 0,
    depth: 0,
    closing: undefined,
  };
  return new MkLogger(shared, undefined, service, LEVEL_VALUES[level]);
}
