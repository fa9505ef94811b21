import type { CallOptions, OutgoingEvent, Reply, ServiceContext } from "@mk/core";
import type { Logger } from "@mk/logger";
import { I_ABORT, I_CHECKPOINT, I_FAIL, I_SEND, toWireError, type Outbox } from "./protocol.ts";

interface Waiting {
  resolve: (value: never) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * The isolate's side of its calls to the kernel: each `send`, `push` and
 * `checkpoint` gets an id and waits here for the kernel's answer.
 */
export class OutgoingCalls {
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  readonly #out: Outbox;

  constructor(out: Outbox) {
    this.#out = out;
  }

  call<T>(message: (id: number) => unknown[], signal: AbortSignal | undefined): Promise<T> {
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const waiting: Waiting = { resolve: resolve as (value: never) => void, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        // Like fetch: the caller is rejected with the signal's reason at once; the kernel is told to stop waiting too.
        waiting.onAbort = () => {
          if (!this.#waiting.delete(id)) return;
          this.#out.add([I_ABORT, id]);
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiting.onAbort, { once: true });
      }
      this.#waiting.set(id, waiting);
      this.#out.add(message(id));
    });
  }

  settle(id: number, ok: boolean, value: unknown): void {
    const waiting = this.#waiting.get(id);
    if (waiting === undefined) return;
    this.#waiting.delete(id);
    if (waiting.onAbort !== undefined) waiting.signal?.removeEventListener("abort", waiting.onAbort);
    if (ok) waiting.resolve(value as never);
    else waiting.reject(value);
  }

  /** A message the kernel cannot receive: its caller gets the error instead. */
  refuse(id: number, error: unknown): void {
    this.settle(id, false, error);
  }
}

/** The ServiceContext inside an isolate: every call goes to the kernel and comes back. */
export class IsolateContext implements ServiceContext {
  readonly name: string;
  readonly logger: Logger;
  readonly #abort = new AbortController();
  readonly #calls: OutgoingCalls;
  readonly #out: Outbox;

  constructor(name: string, logger: Logger, calls: OutgoingCalls, out: Outbox) {
    this.name = name;
    this.logger = logger;
    this.#calls = calls;
    this.#out = out;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** @internal The kernel stopped this run. */
  end(reason: unknown): void {
    this.#abort.abort(reason);
  }

  send(event: OutgoingEvent, options?: CallOptions): Promise<Reply> {
    return this.#call(event, false, options);
  }

  push(event: OutgoingEvent, options?: CallOptions): Promise<Reply> {
    return this.#call(event, true, options);
  }

  /** This instance cannot go on: the kernel treats it as a crash. */
  fail(error: unknown): void {
    this.#out.add([I_FAIL, toWireError(error), false]);
  }

  /** Saves this service's state now, through the kernel (its `exportState` is called back). */
  checkpoint(): Promise<void> {
    return this.#calls.call<void>((id) => [I_CHECKPOINT, id], undefined);
  }

  #call(event: OutgoingEvent, push: boolean, options: CallOptions | undefined): Promise<Reply> {
    const signal = options?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(new TypeError(`expected options.signal to be an AbortSignal, got ${typeof signal}`));
    }
    const stamped =
      event !== null && typeof event === "object" && (event.from === undefined || event.from === "")
        ? { ...event, from: this.name }
        : event;
    return this.#calls.call<Reply>((id) => [I_SEND, id, stamped, push, signal !== undefined], signal);
  }
}
