import { describeThrown } from "@mk/common";

// The one protocol between the kernel's side and an isolate, the same over a
// worker_threads port and a child process's IPC channel ("advanced"
// serialization, so both clone the same way). A message is a small array
// whose first item is its tag; what crosses is always a batch (an array of
// messages) collected during one turn, so 100 calls in flight cost one
// postMessage each way instead of 100.

/** kernel -> isolate: deliver an event to the handler. `[H_CALL, id, event]` */
export const H_CALL = 1;
/** kernel -> isolate: a lifecycle or state operation. `[H_CONTROL, id, op, argument]` */
export const H_CONTROL = 2;
/** kernel -> isolate: the reply to the isolate's own send/push. `[H_REPLY, id, reply]` */
export const H_REPLY = 3;
/** kernel -> isolate: the isolate's own send/push was rejected. `[H_REJECT, id, error]` */
export const H_REJECT = 4;
/** kernel -> isolate: heartbeat; the isolate's event loop answers `I_PONG`. `[H_PING]` */
export const H_PING = 5;

/** isolate -> kernel: the module is loaded and is a service. `[I_READY, info]` */
export const I_READY = 10;
/** isolate -> kernel: the module could not be loaded. `[I_LOAD_FAILED, code, detail, error]` */
export const I_LOAD_FAILED = 11;
/** isolate -> kernel: a handler's reply. `[I_DONE, id, reply]` */
export const I_DONE = 12;
/** isolate -> kernel: a handler threw. `[I_THREW, id, error]` */
export const I_THREW = 13;
/** isolate -> kernel: a control operation succeeded. `[I_OK, id, value]` */
export const I_OK = 14;
/** isolate -> kernel: a control operation failed. `[I_ERR, id, error]` */
export const I_ERR = 15;
/** isolate -> kernel: the service sends or pushes an event. `[I_SEND, id, event, push, withSignal]` */
export const I_SEND = 16;
/** isolate -> kernel: the service's AbortSignal for its own call fired. `[I_ABORT, id]` */
export const I_ABORT = 17;
/** isolate -> kernel: a log line. `[I_LOG, level, service, text]` */
export const I_LOG = 18;
/** isolate -> kernel: heartbeat answer. `[I_PONG]` */
export const I_PONG = 19;
/** isolate -> kernel: `ctx.fail(error)` inside the isolate, or an uncaught error in a process isolate. `[I_FAIL, error, fatal]` */
export const I_FAIL = 20;
/** isolate -> kernel: `ctx.checkpoint()` inside the isolate. `[I_CHECKPOINT, id]` */
export const I_CHECKPOINT = 21;

export type ControlOp = "start" | "stop" | "export" | "import";

/** What the isolate reports about the loaded module. */
export interface ModuleInfo {
  version?: string;
  start: boolean;
  stop: boolean;
  handle: boolean;
  exportState: boolean;
  importState: boolean;
}

/** An error as it crosses: plain fields only (structured clone would drop an Error's own properties). */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** What the isolate is started with (workerData for a thread, argv for a process). */
export interface IsolateInit {
  service: string;
  module: string;
  mode: "thread" | "process";
}

export type LoadFailure = "MODULE_IMPORT_FAILED" | "NO_DEFAULT_EXPORT" | "NOT_A_SERVICE";

export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const wire: WireError = { name: error.name, message: error.message };
    if (typeof error.stack === "string") wire.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string") wire.code = code;
    return wire;
  }
  return { name: "Error", message: describeThrown(error, 500) };
}

/**
 * Collects messages during one turn and posts them as one batch in a
 * microtask. When the batch cannot be cloned (one message carries a
 * function...), each message is posted on its own and the ones that still
 * fail go to `refused`, so one bad message never takes its neighbours down.
 */
export class Outbox {
  #batch: unknown[][] = [];
  #scheduled = false;
  readonly #post: (batch: unknown[][]) => void;
  readonly #refused: (message: unknown[], error: unknown) => void;

  constructor(post: (batch: unknown[][]) => void, refused: (message: unknown[], error: unknown) => void) {
    this.#post = post;
    this.#refused = refused;
  }

  add(message: unknown[]): void {
    this.#batch.push(message);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // A native promise reaction runs after the reactions already queued in this turn, so a burst goes out together.
      void RESOLVED.then(this.flush);
    }
  }

  readonly flush = (): void => {
    this.#scheduled = false;
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    try {
      this.#post(batch);
    } catch {
      // Both transports throw synchronously only when a value cannot be serialized: find the culprits one by one.
      for (const message of batch) {
        try {
          this.#post([message]);
        } catch (error) {
          this.#refused(message, error);
        }
      }
    }
  };
}

const RESOLVED: Promise<void> = Promise.resolve();
