import { KernelClosedError } from "./errors.ts";

/**
 * The kernel's "closed" guard and the operations in flight. Every kernel
 * operation (register, start, replace, checkpoint, ...) runs through
 * {@link OperationGate.run}; once closing has begun, new ones are refused
 * with `KernelClosedError`, and {@link OperationGate.close} lets the ones in
 * progress finish before the kernel stops anything (a hot swap in progress
 * ends, so the stop that follows sees its new version).
 */
export class OperationGate {
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;
  #closed = false;

  /** True once closing has finished: from then on calls reject with KernelClosedError. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `operation` unless closing has begun; tracks it until it settles. */
  run<T>(name: string, operation: () => Promise<T>, service?: unknown): Promise<T> {
    if (this.#closing !== undefined)
      return Promise.reject(new KernelClosedError(name, typeof service === "string" ? service : ""));
    let running: Promise<T>;
    try {
      running = operation();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const inFlight = this.#inFlight;
    inFlight.add(running);
    const done = (): void => void inFlight.delete(running);
    running.then(done, done);
    return running;
  }

  /**
   * Closes once (later calls get the same promise): refuses new operations,
   * waits for those in flight (whatever their outcome), then runs `shutdown`;
   * `closed` is true when it has settled.
   */
  close(shutdown: () => Promise<void>): Promise<void> {
    this.#closing ??= this.#close(shutdown);
    return this.#closing;
  }

  async #close(shutdown: () => Promise<void>): Promise<void> {
    // A settled operation leaves the set; a new one cannot enter it any more.
    while (this.#inFlight.size > 0) await Promise.allSettled(this.#inFlight);
    try {
      await shutdown();
    } finally {
      this.#closed = true;
    }
  }
}

/** The event's target for a KernelClosedError message, read without trusting the event. */
export function targetOf(event: unknown): string {
  if (typeof event !== "object" || event === null) return "";
  try {
    const to = (event as { to?: unknown }).to;
    return typeof to === "string" ? to : "";
  } catch {
    // A throwing getter: the call is refused anyway; the message just names no service.
    return "";
  }
}
