import type { Reply, ServiceContext } from "@mk/core";
import type { Level, Logger } from "@mk/logger";
import { IsolateCrashedError, ModuleLoadError, NotCloneableError, RemoteError, describe } from "./errors.ts";
import {
  H_CALL,
  H_CONTROL,
  H_PING,
  H_REJECT,
  H_REPLY,
  I_ABORT,
  I_CHECKPOINT,
  I_DONE,
  I_ERR,
  I_FAIL,
  I_LOAD_FAILED,
  I_LOG,
  I_OK,
  I_READY,
  I_SEND,
  I_THREW,
  Outbox,
  toWireError,
  type ControlOp,
  type IsolateInit,
  type LoadFailure,
  type ModuleInfo,
  type WireError,
} from "./protocol.ts";
import { spawnProcess, spawnThread, type Ending, type ResourceLimits, type Transport } from "./transport.ts";

export interface IsolateHostOptions {
  init: IsolateInit;
  resourceLimits: ResourceLimits | undefined;
  /** 0: no heartbeat. */
  hangTimeoutMs: number;
  /** The kernel's context of this run: its logger gets the isolate's lines, its send/push carry the isolate's calls. */
  context: ServiceContext;
  /** Called once when the isolate dies without being asked to, after its held calls were answered 503. */
  onCrash(error: IsolateCrashedError): void;
}

interface Slot<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

const STDERR_TAIL = 8;

/**
 * The kernel's side of ONE isolate (a worker thread or a child process): it
 * spawns it, carries calls and control operations over the batched protocol,
 * watches its heartbeat, and on any unasked ending (exit, uncaught error,
 * signal, out of memory, hang) answers every call it held with 503 at once
 * and reports the crash.
 */
export class IsolateHost {
  readonly ready: Promise<ModuleInfo>;
  readonly #o: IsolateHostOptions;
  readonly #service: string;
  readonly #transport: Transport;
  readonly #out: Outbox;
  readonly #calls = new Map<number, Slot<Reply>>();
  readonly #controls = new Map<number, Slot<unknown>>();
  readonly #outgoing = new Map<number, AbortController | null>();
  readonly #loggers = new Map<string, Logger>();
  readonly #stderr: string[] = [];
  readonly #exited: Promise<void>;
  #ready!: Slot<ModuleInfo>;
  #exitedResolve!: () => void;
  #nextId = 1;
  #dead: IsolateCrashedError | undefined;
  /** Asked to end (stop, load failure, swap): its exit is not a crash. */
  #ending = false;
  #outOfMemory: string | undefined;
  #lastSeen = Date.now();
  #lastTick = Date.now();
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: IsolateHostOptions) {
    this.#o = options;
    this.#service = options.init.service;
    this.ready = new Promise<ModuleInfo>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    // A load failure with nobody awaiting yet must not become an unhandled rejection.
    this.ready.catch(() => undefined);
    this.#exited = new Promise<void>((resolve) => {
      this.#exitedResolve = resolve;
    });
    this.#out = new Outbox(
      (batch) => this.#transport.post(batch),
      (message, error) => this.#refused(message, error),
    );
    const events = {
      message: (batch: unknown[][]) => this.#receive(batch),
      exit: (ending: Ending) => this.#exit(ending),
      output: (stream: "stdout" | "stderr", line: string) => this.#output(stream, line),
    };
    const { init, resourceLimits } = options;
    this.#transport =
      init.mode === "process" ? spawnProcess(init, resourceLimits, events) : spawnThread(init, resourceLimits, events);
  }

  /** The crash that ended it, if it crashed. */
  get crashed(): IsolateCrashedError | undefined {
    return this.#dead;
  }

  get alive(): boolean {
    return this.#dead === undefined && !this.#ending;
  }

  /** Delivers an event to the isolate's handler; a dead isolate answers 503 at once. */
  call(event: unknown): Promise<Reply> {
    const dead = this.#dead;
    if (dead !== undefined || this.#ending) return Promise.resolve(this.#unavailable(dead));
    const id = this.#nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      this.#out.add([H_CALL, id, event]);
    });
  }

  /** Runs a lifecycle or state operation inside the isolate. */
  control(op: ControlOp, argument?: unknown): Promise<unknown> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.#controls.set(id, { resolve, reject });
      this.#out.add([H_CONTROL, id, op, argument]);
    });
  }

  /** Ends the isolate on purpose (its exit is not a crash) and waits until it is gone. */
  close(): Promise<void> {
    this.#ending = true;
    this.#stopHeartbeat();
    this.#transport.kill();
    return this.#exited;
  }

  /** From now on an ending is not reported as a crash (a stop in progress). */
  quiet(): void {
    this.#ending = true;
  }

  #unavailable(dead: IsolateCrashedError | undefined): Reply {
    return {
      code: 503,
      message:
        dead === undefined
          ? `isolated service "${this.#service}" is stopping; the call was not delivered`
          : `${dead.message}; the call was not answered`,
    };
  }

  #receive(batch: unknown[][]): void {
    this.#lastSeen = Date.now();
    for (const message of batch) {
      switch (message[0]) {
        case I_DONE: {
          const id = message[1] as number;
          const slot = this.#calls.get(id);
          if (slot === undefined) break;
          this.#calls.delete(id);
          slot.resolve(message[2] as Reply);
          break;
        }
        case I_THREW: {
          const id = message[1] as number;
          const slot = this.#calls.get(id);
          if (slot === undefined) break;
          this.#calls.delete(id);
          slot.reject(this.#remote(message[2] as WireError));
          break;
        }
        case I_OK:
        case I_ERR: {
          const id = message[1] as number;
          const slot = this.#controls.get(id);
          if (slot === undefined) break;
          this.#controls.delete(id);
          if (message[0] === I_OK) slot.resolve(message[2]);
          else slot.reject(this.#remote(message[2] as WireError));
          break;
        }
        case I_SEND:
          this.#forward(message[1] as number, message[2], message[3] === true, message[4] === true);
          break;
        case I_ABORT: {
          const id = message[1] as number;
          const controller = this.#outgoing.get(id);
          this.#outgoing.delete(id);
          controller?.abort(new Error(`isolated service "${this.#service}" aborted its call`));
          break;
        }
        case I_LOG:
          this.#log(message[1] as Level, message[2] as string, message[3] as string);
          break;
        case I_READY:
          // From here on the isolate's loop must answer; loading is bounded by the kernel's start deadline instead.
          if (this.#o.hangTimeoutMs > 0 && this.alive) this.#startHeartbeat(this.#o.hangTimeoutMs);
          this.#ready.resolve(message[1] as ModuleInfo);
          break;
        case I_LOAD_FAILED: {
          const wire = message[3] as WireError | undefined;
          this.#ready.reject(
            new ModuleLoadError(
              message[1] as LoadFailure,
              this.#service,
              this.#o.init.module,
              message[2] as string,
              wire,
            ),
          );
          void this.close();
          break;
        }
        case I_FAIL: {
          const wire = message[1] as WireError;
          const fatal = message[2] === true;
          this.#crash(
            new IsolateCrashedError(
              this.#service,
              fatal ? "error" : "fail",
              fatal ? `uncaught ${wire.name}: ${wire.message}` : `it called ctx.fail: ${wire.message}`,
              { cause: this.#remote(wire) },
            ),
          );
          break;
        }
        case I_CHECKPOINT:
          this.#checkpoint(message[1] as number);
          break;
        default:
          // I_PONG: its arrival already counted as a sign of life.
          break;
      }
    }
  }

  #remote(wire: WireError): Error {
    if (wire.code === "NOT_CLONEABLE") return new NotCloneableError(this.#service, undefined, wire.message);
    return new RemoteError(this.#service, wire);
  }

  /** The isolate's own send/push, carried out by the kernel with the same codes, deadlines and abort. */
  #forward(id: number, event: unknown, push: boolean, withSignal: boolean): void {
    const context = this.#o.context;
    const controller = withSignal ? new AbortController() : null;
    this.#outgoing.set(id, controller);
    const options = controller === null ? undefined : { signal: controller.signal };
    let call: Promise<Reply>;
    try {
      call = push ? context.push(event as never, options) : context.send(event as never, options);
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      (reply) => {
        if (this.#outgoing.delete(id) && this.alive) this.#out.add([H_REPLY, id, reply]);
      },
      (error: unknown) => {
        if (this.#outgoing.delete(id) && this.alive) this.#out.add([H_REJECT, id, toWireError(error)]);
      },
    );
  }

  #checkpoint(id: number): void {
    const done = this.#o.context.checkpoint();
    done.then(
      () => {
        if (this.alive) this.#out.add([H_REPLY, id, undefined]);
      },
      (error: unknown) => {
        if (this.alive) this.#out.add([H_REJECT, id, toWireError(error)]);
      },
    );
  }

  #logger(service: string): Logger {
    const root = this.#o.context.logger;
    if (service === this.#service) return root;
    let logger = this.#loggers.get(service);
    if (logger === undefined) {
      logger = root.child(service);
      this.#loggers.set(service, logger);
    }
    return logger;
  }

  #log(level: Level, service: string, text: string): void {
    const logger = this.#logger(service);
    if (level === "debug") logger.debug("%s", text);
    else if (level === "info") logger.info("%s", text);
    else if (level === "warn") logger.warn("%s", text);
    else logger.error("%s", text);
  }

  #output(stream: "stdout" | "stderr", line: string): void {
    if (stream === "stderr") {
      // V8's fatal out-of-memory report is followed by a long native stack: remember it, not just the tail.
      if (/heap out of memory|Reached heap limit/.test(line)) this.#outOfMemory = line;
      this.#stderr.push(line);
      if (this.#stderr.length > STDERR_TAIL) this.#stderr.shift();
      this.#o.context.logger.warn("%s", line);
    } else {
      this.#o.context.logger.info("%s", line);
    }
  }

  /** A message that could not be cloned: its waiting party gets a NotCloneableError instead. */
  #refused(message: unknown[], error: unknown): void {
    const id = message[1] as number;
    switch (message[0]) {
      case H_CALL: {
        const slot = this.#calls.get(id);
        this.#calls.delete(id);
        slot?.reject(new NotCloneableError(this.#service, "the event", error));
        return;
      }
      case H_CONTROL: {
        const slot = this.#controls.get(id);
        this.#controls.delete(id);
        slot?.reject(new NotCloneableError(this.#service, `the argument of ${String(message[2])}`, error));
        return;
      }
      case H_REPLY:
        this.#out.add([H_REJECT, id, toWireError(new NotCloneableError(this.#service, "the reply", error))]);
        return;
      default:
        this.#o.context.logger.error(
          "could not post message %s to the isolate: %s",
          String(message[0]),
          describe(error),
        );
    }
  }

  #startHeartbeat(hangTimeoutMs: number): void {
    const every = Math.max(5, Math.floor(hangTimeoutMs / 4));
    this.#lastSeen = this.#lastTick = Date.now();
    this.#heartbeat = setInterval(() => {
      const now = Date.now();
      // The kernel's own loop was blocked: the isolate's answers may sit unread, so it gets a fresh allowance.
      if (now - this.#lastTick > every * 2) this.#lastSeen = now;
      this.#lastTick = now;
      const quiet = now - this.#lastSeen;
      if (quiet >= hangTimeoutMs) {
        this.#crash(
          new IsolateCrashedError(
            this.#service,
            "hang",
            `its event loop did not answer the heartbeat for ${hangTimeoutMs} ms (hangTimeoutMs); it was killed`,
          ),
        );
      } else if (quiet >= every) {
        this.#out.add([H_PING]);
      }
    }, every);
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #exit(ending: Ending): void {
    this.#stopHeartbeat();
    if (this.#dead === undefined) this.#crash(this.#classify(ending));
    this.#exitedResolve();
  }

  #classify({ code, signal, error }: Ending): IsolateCrashedError {
    const service = this.#service;
    const errorCode = (error as { code?: unknown } | undefined)?.code;
    if (errorCode === "ERR_WORKER_OUT_OF_MEMORY" || this.#outOfMemory !== undefined) {
      const why = error === undefined ? (this.#outOfMemory ?? "") : describe(error);
      return new IsolateCrashedError(service, "out-of-memory", `it ran out of memory (${why})`, {
        cause: error,
      });
    }
    if (error !== undefined) {
      return new IsolateCrashedError(service, "error", `uncaught ${describe(error)}`, { cause: error });
    }
    if (signal !== null) {
      return new IsolateCrashedError(service, "signal", `its process was killed by ${signal}`);
    }
    const tail = this.#stderr.length === 0 ? "" : ` (stderr: ${this.#stderr.join(" | ").slice(-300)})`;
    return new IsolateCrashedError(service, "exit", `it exited with code ${String(code)}${tail}`, {
      normal: code === 0,
    });
  }

  #crash(error: IsolateCrashedError): void {
    if (this.#dead !== undefined) return;
    this.#dead = error;
    this.#stopHeartbeat();
    this.#transport.kill();
    const reply: Reply = this.#unavailable(error);
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    // Answered now, not at their deadlines: the instance that held them is gone.
    for (const slot of calls) slot.resolve(reply);
    const controls = [...this.#controls.values()];
    this.#controls.clear();
    for (const slot of controls) slot.reject(error);
    this.#ready.reject(error);
    for (const controller of this.#outgoing.values()) controller?.abort(error);
    this.#outgoing.clear();
    if (!this.#ending) this.#o.onCrash(error);
  }
}
