import { describeThrown } from "@mk/common";
import type { Logger } from "@mk/logger";
import { InvalidEventError } from "../errors.ts";
import type { LazyAbort } from "./lazy-abort.ts";
import type { CallOptions, Event, OutgoingEvent, Reply, ServiceContext } from "../types.ts";

/** The part of the message bus a service context calls. */
export interface Courier {
  send(event: Event, options?: CallOptions): Promise<Reply>;
  push(event: Event, options?: CallOptions): Promise<Reply>;
}

/** Where a run's `fail` and `checkpoint` go (the kernel's supervisor). */
export interface RunSupervisor {
  fail(name: string, run: LazyAbort, error: unknown): void;
  checkpoint(name: string, run: LazyAbort): Promise<void>;
}

/**
 * The context handed to one run of a service (one per start): its logger, an
 * AbortSignal that fires when this run ends, and `send`/`push` with `from`
 * defaulting to the service's name. A class (methods on the prototype), so a
 * start allocates one small object and no closures.
 */
class RunContext implements ServiceContext {
  readonly name: string;
  readonly logger: Logger;
  readonly #abort: LazyAbort;
  readonly #courier: Courier;
  readonly #supervisor: RunSupervisor | undefined;

  constructor(name: string, logger: Logger, abort: LazyAbort, courier: Courier, supervisor?: RunSupervisor) {
    this.name = name;
    this.logger = logger;
    this.#abort = abort;
    this.#courier = courier;
    this.#supervisor = supervisor;
  }

  fail(error: unknown): void {
    this.#supervisor?.fail(this.name, this.#abort, error);
  }

  checkpoint(): Promise<void> {
    return this.#supervisor === undefined ? Promise.resolve() : this.#supervisor.checkpoint(this.name, this.#abort);
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  send(event: OutgoingEvent, options?: CallOptions): Promise<Reply> {
    let stamped: Event;
    try {
      stamped = this.#stamp(event);
    } catch (error) {
      return Promise.reject(unreadable(error));
    }
    return this.#courier.send(stamped, options);
  }

  push(event: OutgoingEvent, options?: CallOptions): Promise<Reply> {
    let stamped: Event;
    try {
      stamped = this.#stamp(event);
    } catch (error) {
      return Promise.reject(unreadable(error));
    }
    return this.#courier.push(stamped, options);
  }

  /** @throws whatever a getter or Proxy trap of `event` throws. */
  #stamp(event: OutgoingEvent): Event {
    return event !== null && typeof event === "object" && (event.from === undefined || event.from === "")
      ? { ...event, from: this.name }
      : (event as Event);
  }
}

function unreadable(error: unknown): InvalidEventError {
  return new InvalidEventError("", `could not read the event's fields: ${describeThrown(error, 200)}`);
}

export function createServiceContext(
  name: string,
  logger: Logger,
  abort: LazyAbort,
  courier: Courier,
  supervisor?: RunSupervisor,
): ServiceContext {
  return new RunContext(name, logger, abort, courier, supervisor);
}
