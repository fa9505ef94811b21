// joinCluster options: checks, defaults, NATS auth passed through.
import type { Logger } from "@mk/logger";
import type { Authenticator, NodeConnectionOptions } from "@nats-io/transport-node";
import { ClusterStateStore } from "./cluster-store.ts";
import { InvalidArgumentError } from "./errors.ts";
import { isName, NAMESPACE_PATTERN } from "./names.ts";

/** Options of {@link joinCluster}. */
export interface JoinOptions {
  /** NATS server URL(s), like `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** This node's name, unique among the live nodes; follows the service name rule. */
  node: string;
  /** Subjects live under `mk.<namespace>`, so two clusters can share one NATS server. @default "default" */
  namespace?: string;
  /** NATS auth, passed to the client as given. */
  user?: string;
  pass?: string;
  token?: string;
  authenticator?: Authenticator | Authenticator[];
  tls?: NodeConnectionOptions["tls"];
  /** How often this node publishes its heartbeat. @default 250 */
  heartbeatMs?: number;
  /** A node not heard from for this long is dropped, and its calls in flight are answered 503. @default 1000 */
  deadAfterMs?: number;
  /** Largest encoded call or reply body; larger ones are refused (sender) or answered 500 (receiver). @default 1048576 */
  maxPayloadBytes?: number;
  /** How long `leave()` waits for calls this node is serving for others. @default 10000 */
  leaveTimeoutMs?: number;
  /** @default a logger writing text lines to stdout, named "cluster" */
  logger?: Logger;
  /**
   * The kernel's store, wrapped by `clusterStore()` (the same object given to
   * `new Kernel({ store })`). With it, every service with state is active on
   * one node (the holder of its lease) and on standby on the others.
   */
  store?: ClusterStateStore;
  /** How long an owner's lease lasts without renewal (renewed every third). Needs `store`. @default 3000 */
  leaseMs?: number;
}

export interface ResolvedOptions {
  servers: string[];
  node: string;
  namespace: string;
  heartbeatMs: number;
  deadAfterMs: number;
  maxPayloadBytes: number;
  leaveTimeoutMs: number;
  store: ClusterStateStore | undefined;
  leaseMs: number;
}

const KNOWN = new Set([
  "servers",
  "node",
  "namespace",
  "user",
  "pass",
  "token",
  "authenticator",
  "tls",
  "heartbeatMs",
  "deadAfterMs",
  "maxPayloadBytes",
  "leaveTimeoutMs",
  "logger",
  "store",
  "leaseMs",
]);

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  if (typeof value === "number") return String(value);
  return typeof value;
}

function ms(options: JoinOptions, key: keyof JoinOptions, fallback: number, min: number, max: number): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`expected ${key} to be an integer in [${min}, ${max}], got ${describe(value)}`);
  }
  return value;
}

/** @throws {InvalidArgumentError} for any option of the wrong type or range, or an unknown one. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`expected join options to be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentError(`unknown join option ${JSON.stringify(key)}`);
  }
  const o = options as JoinOptions;
  const servers = typeof o.servers === "string" ? [o.servers] : o.servers;
  if (
    !Array.isArray(servers) ||
    servers.length === 0 ||
    !servers.every((s) => typeof s === "string" && s.length > 0 && s.length < 2048)
  ) {
    throw new InvalidArgumentError(
      `expected servers to be a URL or a non-empty array of URLs, got ${describe(o.servers)}`,
    );
  }
  if (!isName(o.node)) {
    throw new InvalidArgumentError(
      `expected node to be a name like "node-1" (service name rule), got ${describe(o.node)}`,
      {
        node: typeof o.node === "string" ? o.node : undefined,
      },
    );
  }
  const namespace = o.namespace ?? "default";
  if (typeof namespace !== "string" || !NAMESPACE_PATTERN.test(namespace)) {
    throw new InvalidArgumentError(
      `expected namespace to match ${NAMESPACE_PATTERN.source} (one subject token), got ${describe(o.namespace)}`,
    );
  }
  for (const key of ["user", "pass", "token"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "string") {
      throw new InvalidArgumentError(`expected ${key} to be a string, got ${describe(o[key])}`);
    }
  }
  const logger = o.logger;
  if (logger !== undefined && (typeof logger !== "object" || logger === null || typeof logger.warn !== "function")) {
    throw new InvalidArgumentError(`expected logger to be a Logger, got ${describe(logger)}`);
  }
  const heartbeatMs = ms(o, "heartbeatMs", 250, 10, 60_000);
  const deadAfterMs = ms(o, "deadAfterMs", 1000, 20, 600_000);
  if (deadAfterMs <= heartbeatMs * 2) {
    throw new InvalidArgumentError(
      `expected deadAfterMs (${deadAfterMs}) to be more than twice heartbeatMs (${heartbeatMs}), or a live node would be dropped`,
    );
  }
  if (o.store !== undefined && !(o.store instanceof ClusterStateStore)) {
    throw new InvalidArgumentError(
      `expected store to be a ClusterStateStore (wrap the kernel's store with clusterStore() and give the same object to new Kernel({ store })), got ${describe(o.store)}`,
    );
  }
  if (o.leaseMs !== undefined && o.store === undefined) {
    throw new InvalidArgumentError("leaseMs needs store: leases guard services with state, kept in the store");
  }
  return {
    servers,
    node: o.node,
    namespace,
    heartbeatMs,
    deadAfterMs,
    maxPayloadBytes: ms(o, "maxPayloadBytes", 1_048_576, 256, 64 * 1_048_576),
    leaveTimeoutMs: ms(o, "leaveTimeoutMs", 10_000, 0, 600_000),
    store: o.store,
    leaseMs: ms(o, "leaseMs", 3000, 100, 600_000),
  };
}
