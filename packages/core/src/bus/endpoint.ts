import type { Service, ServiceContext, ServiceStats, ServiceStatus } from "../types.ts";

/** What the bus needs to deliver to a service (the registry's record satisfies it). */
export interface Endpoint {
  /** Delivery happens only when "running"; otherwise the call is answered 404. */
  readonly status: ServiceStatus;
  /** The current version: a hot swap replaces it, and the bus reads it at each delivery. */
  readonly service: Service;
  /** Passed to `handle()`. */
  readonly context: ServiceContext;
  /** Counters the bus increments. */
  readonly stats: ServiceStats;
}
