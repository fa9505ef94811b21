import type { Logger } from "@mk/logger";
import type { CallOptions, Event, OutgoingEvent, Reply, ServiceContext } from "./types.ts";

/** The part of the message bus a service context calls. */
export interface Courier {
  send(event: Event, options?: CallOptions): Promise<Reply>;
  push(event: Event, options?: CallOptions): Promise<Reply>;
}

/**
 * The context handed to one run of a service (one per start): its logger, an
 * AbortSignal that fires when this run ends, and `send`/`push` with `from`
 * defaulting to the service's name.
 */
export function createServiceContext(name: string, logger: Logger, signal: AbortSignal, courier: Courier): ServiceContext {
  const stamp = (event: OutgoingEvent): Event =>
    event !== null && typeof event === "object" && (event.from === undefined || event.from === "")
      ? { ...event, from: name }
      : (event as Event);
  return {
    name,
    logger,
    signal,
    send: (event, options) => courier.send(stamp(event), options),
    push: (event, options) => courier.push(stamp(event), options),
  };
}
