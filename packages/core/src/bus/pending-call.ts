import type { Event, Reply } from "../types.ts";
import { WheelNode } from "./deadline-wheel.ts";
import type { Endpoint } from "./endpoint.ts";

/** Waiting in the push queue. */
export const QUEUED = 0;
/** Parked while its target is held (hot swap). */
export const HELD = 1;
/** Its handler was called and has not settled. */
export const RUNNING = 2;
/** Delivered and settled, expired or abandoned: nothing more happens to it. */
export const DONE = 3;
/** Handed to the remote router (its target does not run here); the deadline stays armed. */
export const FORWARDED = 4;

/**
 * One call the bus has to answer later: a push, or a send that could not be
 * answered synchronously. It is its own deadline-wheel node, so tracking it
 * allocates nothing beyond this object and its promise. The event's fields
 * the kernel uses were read once, at the call (see `readEvent`), and live
 * here: a getter on the event never runs again, least of all in a timer.
 */
export class PendingCall extends WheelNode {
  /** Handed to the handler as the caller gave it. */
  readonly event: Event;
  readonly target: string;
  readonly type: string;
  readonly from: string;
  /** The call's deadline in ms (the bus default when the event had none), for the 408 message. */
  readonly timeoutMs: number;
  readonly isPush: boolean;
  /** Deadline in wheel ticks, counted from when the call entered the bus. */
  readonly ticks: number;
  phase: number = QUEUED;
  /** The caller has its answer (a reply, or a rejection on abort). */
  answered = false;
  /** Whose handler runs it, for the counters. */
  endpoint: Endpoint | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  readonly promise: Promise<Reply>;
  resolve!: (reply: Reply) => void;
  reject!: (reason: unknown) => void;

  constructor(
    event: Event,
    target: string,
    type: string,
    from: string,
    timeoutMs: number,
    isPush: boolean,
    ticks: number,
  ) {
    super();
    this.event = event;
    this.target = target;
    this.type = type;
    this.from = from;
    this.timeoutMs = timeoutMs;
    this.isPush = isPush;
    this.ticks = ticks;
    // One shared executor instead of a closure per call: calls are the bus's hot path.
    this.promise = new Promise<Reply>(capture);
    this.resolve = captured.resolve;
    this.reject = captured.reject;
  }
}

const captured: { resolve: (reply: Reply) => void; reject: (reason: unknown) => void } = {
  resolve: () => undefined,
  reject: () => undefined,
};
function capture(resolve: (reply: Reply) => void, reject: (reason: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}
