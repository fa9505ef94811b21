import { describeThrown } from "@mk/common";
import { InvalidEventError } from "../errors.ts";
import { ReplyCode } from "../reply-codes.ts";
import type { Reply, ServiceStatus } from "../types.ts";

/** The longest deadline a call can ask for (setTimeout's limit, ~24.8 days). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * The fields of an event the kernel uses, read once at the call: a getter
 * or Proxy trap runs at most once, and never later inside a timer.
 */
export interface EventFields {
  /** "" for the kernel itself. */
  to: string;
  /** "" when absent. */
  from: string;
  type: string;
  timeoutMs: number | undefined;
}

/**
 * Reads and checks the fields of `event` into `into` (the bus reuses one
 * object, so the hot path allocates nothing). Returns the error to reject
 * with, or `undefined` when the event is usable.
 */
export function readEvent(event: unknown, into: EventFields): InvalidEventError | undefined {
  if (typeof event !== "object" || event === null) {
    return new InvalidEventError("", `expected an event object, got ${event === null ? "null" : typeof event}`);
  }
  let to: unknown;
  let from: unknown;
  let type: unknown;
  let timeoutMs: unknown;
  try {
    ({ to, from, type, timeoutMs } = event as Record<string, unknown>);
  } catch (error) {
    return new InvalidEventError("", `could not read the event's fields: ${describeThrown(error, 200)}`);
  }
  if (to !== undefined && typeof to !== "string")
    return new InvalidEventError("", `expected "to" to be a string, got ${typeof to}`);
  const target = to ?? "";
  if (from !== undefined && typeof from !== "string")
    return new InvalidEventError(target, `expected "from" to be a string, got ${from === null ? "null" : typeof from}`);
  if (typeof type !== "string")
    return new InvalidEventError(target, `expected "type" to be a string, got ${typeof type}`);
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    return new InvalidEventError(
      target,
      `expected "timeoutMs" to be a number in (0, ${MAX_TIMEOUT_MS}], got ${typeof timeoutMs === "number" ? String(timeoutMs) : typeof timeoutMs}`,
    );
  }
  into.to = target;
  into.from = from ?? "";
  into.type = type;
  into.timeoutMs = timeoutMs;
  return undefined;
}

/** True for a real AbortSignal; a Proxy whose traps throw is not one. */
export function isAbortSignal(value: unknown): value is AbortSignal {
  try {
    return value instanceof AbortSignal;
  } catch {
    // instanceof ran a Proxy's getPrototypeOf trap, which threw: not a signal.
    return false;
  }
}

export function badSignal(to: string, signal: unknown): InvalidEventError {
  return new InvalidEventError(
    to,
    `expected options.signal to be an AbortSignal, got ${signal === null ? "null" : typeof signal}`,
  );
}

/** True when `value` has the shape of a {@link Reply}; a getter that throws makes it not one. */
export function isReply(value: unknown): value is Reply {
  if (typeof value !== "object" || value === null) return false;
  try {
    return typeof (value as Reply).code === "number" && typeof (value as Reply).message === "string";
  } catch {
    // A hostile reply object (throwing getter or trap) is answered as an invalid reply.
    return false;
  }
}

export function kernelReply(): Reply {
  return { code: ReplyCode.OK, message: "Handled by kernel", data: "ok" };
}

export function notRegistered(to: string): Reply {
  return { code: ReplyCode.NOT_FOUND, message: `service "${to}" is not registered` };
}

export function notRunning(to: string, status: ServiceStatus): Reply {
  return { code: ReplyCode.NOT_FOUND, message: `service "${to}" is not running (status ${status})` };
}

export function noHandler(to: string): Reply {
  return { code: ReplyCode.NOT_FOUND, message: `service "${to}" has no handle method` };
}

export function handlerFailed(to: string, type: string, error: unknown): Reply {
  return {
    code: ReplyCode.HANDLER_FAILED,
    message: `service "${to}" failed to handle "${type}": ${describeThrown(error)}`,
  };
}

export function invalidReply(to: string, type: string, value: unknown): Reply {
  const got = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
  return {
    code: ReplyCode.HANDLER_FAILED,
    message: `service "${to}" returned an invalid reply to "${type}": expected { code: number, message: string }, got ${got}`,
  };
}

export function timedOut(to: string, type: string, timeoutMs: number): Reply {
  return { code: ReplyCode.TIMEOUT, message: `service "${to}" did not reply to "${type}" within ${timeoutMs} ms` };
}

export function queueFull(to: string, capacity: number): Reply {
  return {
    code: ReplyCode.QUEUE_FULL,
    message: `push queue is full (${capacity} events waiting for replies): refused event for "${to}"`,
  };
}

export function closed(to: string): Reply {
  return { code: ReplyCode.QUEUE_FULL, message: `kernel is closed: event for "${to}" not delivered` };
}
