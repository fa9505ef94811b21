import { LifecycleTimeoutError } from "./errors.ts";
import type { LazyAbort } from "./lazy-abort.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { ServiceRecord } from "./registry.ts";
import type { BatchEntry } from "./with-deadline.ts";

type Outcome = (record: ServiceRecord, error: Error | undefined) => void;
/** The value of a transition awaited by `settleWithin` (not in a batch), which never reads it. */
const UNUSED: PromiseLike<unknown> = Promise.resolve();
const IGNORE: Outcome = () => undefined;

/**
 * One start: what its outcomes do, and (in a batch) its pending value and
 * where its outcome goes. One object per start, no closures.
 */
export class StartTransition implements BatchEntry {
  settled = false;
  readonly value: PromiseLike<unknown>;
  readonly timeoutMs: number;
  readonly #lifecycle: Lifecycle;
  readonly #record: ServiceRecord;
  readonly #abort: LazyAbort;
  readonly #outcome: Outcome;

  constructor(
    lifecycle: Lifecycle,
    record: ServiceRecord,
    abort: LazyAbort,
    timeoutMs: number,
    value: PromiseLike<unknown> = UNUSED,
    outcome: Outcome = IGNORE,
  ) {
    this.#lifecycle = lifecycle;
    this.#record = record;
    this.#abort = abort;
    this.timeoutMs = timeoutMs;
    this.value = value;
    this.#outcome = outcome;
  }

  fulfilled(): void {
    this.#lifecycle.started(this.#record);
  }

  rejected(error: unknown): Error {
    return this.#lifecycle.startFailed(this.#record, this.#abort, error);
  }

  timeout(): Error {
    return new LifecycleTimeoutError("start", this.#record.name, this.timeoutMs);
  }

  done(error: Error | undefined): void {
    this.#outcome(this.#record, error);
  }
}

/** One stop; see {@link StartTransition}. */
export class StopTransition implements BatchEntry {
  settled = false;
  readonly value: PromiseLike<unknown>;
  readonly timeoutMs: number;
  readonly #lifecycle: Lifecycle;
  readonly #record: ServiceRecord;
  readonly #outcome: Outcome;

  constructor(
    lifecycle: Lifecycle,
    record: ServiceRecord,
    timeoutMs: number,
    value: PromiseLike<unknown> = UNUSED,
    outcome: Outcome = IGNORE,
  ) {
    this.#lifecycle = lifecycle;
    this.#record = record;
    this.timeoutMs = timeoutMs;
    this.value = value;
    this.#outcome = outcome;
  }

  fulfilled(): void {
    this.#lifecycle.stopped(this.#record);
  }

  rejected(error: unknown): Error {
    return this.#lifecycle.stopFailed(this.#record, error);
  }

  timeout(): Error {
    return new LifecycleTimeoutError("stop", this.#record.name, this.timeoutMs);
  }

  done(error: Error | undefined): void {
    this.#outcome(this.#record, error);
  }
}
