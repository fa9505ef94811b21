import { isThenable } from "@mk/common";
import { LifecycleTimeoutError, StartFailedError, StopFailedError } from "../errors.ts";
import type { ServiceRecord } from "../registry/service-record.ts";
import type { LazyAbort } from "./lazy-abort.ts";
import type { BatchEntry } from "./settle.ts";

export type TransitionKind = "start" | "stop";

/** Called with each service's outcome: `error` is `undefined` on success. */
export type Outcome = (record: ServiceRecord, error: Error | undefined) => void;

/** What a transition reports to: the lifecycle's status changes and logs. Failures come already wrapped. */
export interface TransitionOutcomes {
  started(record: ServiceRecord): void;
  stopped(record: ServiceRecord): void;
  startFailed(record: ServiceRecord, abort: LazyAbort, failure: Error): Error;
  stopFailed(record: ServiceRecord, failure: Error): Error;
}

/**
 * One start or stop whose `start()`/`stop()` returned a promise: what its
 * outcomes do, its pending value and where its outcome goes. One object per
 * transition, no closures (startAll of 10,000 services makes 10,000).
 */
export class Transition implements BatchEntry {
  settled = false;
  readonly #kind: TransitionKind;
  readonly #outcomes: TransitionOutcomes;
  readonly #record: ServiceRecord;
  readonly #abort: LazyAbort;
  readonly #outcome: Outcome;
  readonly value: PromiseLike<unknown>;
  readonly timeoutMs: number;

  constructor(
    kind: TransitionKind,
    outcomes: TransitionOutcomes,
    record: ServiceRecord,
    abort: LazyAbort,
    timeoutMs: number,
    value: PromiseLike<unknown>,
    outcome: Outcome,
  ) {
    this.#kind = kind;
    this.#outcomes = outcomes;
    this.#record = record;
    this.#abort = abort;
    this.timeoutMs = timeoutMs;
    this.value = value;
    this.#outcome = outcome;
  }

  fulfilled(): void {
    if (this.#kind === "start") this.#outcomes.started(this.#record);
    else this.#outcomes.stopped(this.#record);
  }

  rejected(error: unknown): Error {
    return failed(this.#kind, this.#outcomes, this.#record, this.#abort, error);
  }

  timedOut(): Error {
    const failure = new LifecycleTimeoutError(this.#kind, this.#record.name, this.timeoutMs);
    return this.#kind === "start"
      ? this.#outcomes.startFailed(this.#record, this.#abort, failure)
      : this.#outcomes.stopFailed(this.#record, failure);
  }

  done(error: Error | undefined): void {
    this.#outcome(this.#record, error);
  }
}

/**
 * Calls the service's `start(ctx)` or `stop()`. A synchronous outcome is
 * applied here (status, log) and reported to `outcome`; a pending one is
 * returned as a {@link Transition} for the caller to settle against its
 * deadline. A `then` getter that throws counts as the method throwing.
 */
export function begin(
  kind: TransitionKind,
  outcomes: TransitionOutcomes,
  record: ServiceRecord,
  abort: LazyAbort,
  timeoutMs: number,
  outcome: Outcome,
): Transition | undefined {
  const service = record.service;
  let value: unknown;
  try {
    value = kind === "start" ? service.start?.(record.context) : service.stop?.();
    if (isThenable(value)) return new Transition(kind, outcomes, record, abort, timeoutMs, value, outcome);
  } catch (error) {
    outcome(record, failed(kind, outcomes, record, abort, error));
    return undefined;
  }
  if (kind === "start") outcomes.started(record);
  else outcomes.stopped(record);
  outcome(record, undefined);
  return undefined;
}

/** The service's start or stop threw or rejected with `error` (any value, described safely). */
function failed(
  kind: TransitionKind,
  outcomes: TransitionOutcomes,
  record: ServiceRecord,
  abort: LazyAbort,
  error: unknown,
): Error {
  return kind === "start"
    ? outcomes.startFailed(record, abort, new StartFailedError(record.name, error))
    : outcomes.stopFailed(record, new StopFailedError(record.name, error));
}
