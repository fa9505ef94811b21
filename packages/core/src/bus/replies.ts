import { InvalidEventError } from "../errors.ts";
import { ReplyCode } from "../reply-codes.ts";
import type { Event, Reply, ServiceStatus } from "../types.ts";

/** The longest deadline a call can ask for (setTimeout's limit, ~24.8 days). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Checks the shape the bus relies on; cheap enough for the hot path.
 * Returns the error to reject with, or `undefined` when the event is usable.
 */
export function checkEvent(event: unknown): InvalidEventError | undefined {
  if (typeof event !== "object" || event === null) return new InvalidEventError(event, "expected an event object");
  const { to, type, timeoutMs } = event as Partial<Record<keyof Event, unknown>>;
  if (to !== undefined && typeof to !== "string")
    return new InvalidEventError(event, `expected "to" to be a string, got ${typeof to}`);
  if (typeof type !== "string")
    return new InvalidEventError(event, `expected "type" to be a string, got ${typeof type}`);
  if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    return new InvalidEventError(
      event,
      `expected "timeoutMs" to be a number in (0, ${MAX_TIMEOUT_MS}], got ${typeof timeoutMs === "number" ? String(timeoutMs) : typeof timeoutMs}`,
    );
  }
  return undefined;
}

export function badSignal(event: Event, signal: unknown): InvalidEventError {
  return new InvalidEventError(
    event,
    `expected options.signal to be an AbortSignal, got ${signal === null ? "null" : typeof signal}`,
  );
}

/** True when `value` has the shape of a {@link Reply}. */
export function isReply(value: unknown): value is Reply {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Reply).code === "number" &&
    typeof (value as Reply).message === "string"
  );
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
  const why = error instanceof Error ? error.message : String(error);
  return { code: ReplyCode.HANDLER_FAILED, message: `service "${to}" failed to handle "${type}": ${why}` };
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
