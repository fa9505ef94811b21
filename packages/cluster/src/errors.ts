// ClusterError and its codes (INVALID_ARGUMENT, CONNECT_FAILED, DUPLICATE_NODE, ALREADY_JOINED, ENCODE_FAILED).
/**
 * Stable codes of every error `@mk/cluster` throws or rejects with; match on these, never on messages.
 *
 * | code | meaning |
 * |---|---|
 * | `INVALID_ARGUMENT` | an argument has the wrong type or range (options, node name, namespace) |
 * | `CONNECT_FAILED` | the NATS connection could not be made (the cause has the client's error) |
 * | `DUPLICATE_NODE` | another live node of the cluster already uses this node name |
 * | `ALREADY_JOINED` | this kernel is already in a cluster (leave first) |
 * | `ENCODE_FAILED` | a call's content (or a reply's data) cannot travel: not strict JSON, or too large |
 */
export type ClusterErrorCode =
  "INVALID_ARGUMENT" | "CONNECT_FAILED" | "DUPLICATE_NODE" | "ALREADY_JOINED" | "ENCODE_FAILED";

/** Options of every {@link ClusterError}. */
export interface ClusterErrorOptions {
  /** The node the error is about. */
  node?: string | undefined;
  /** The service the error is about. */
  service?: string | undefined;
  cause?: unknown;
}

/** Base of every error thrown or rejected by `@mk/cluster`. */
export class ClusterError extends Error {
  override name = "ClusterError";
  /** Stable machine-readable reason; see {@link ClusterErrorCode}. */
  readonly code: ClusterErrorCode;
  /** The node the error is about, when there is one. */
  readonly node: string | undefined;
  /** The service the error is about, when there is one. */
  readonly service: string | undefined;

  constructor(code: ClusterErrorCode, message: string, options: ClusterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.node = options.node;
    this.service = options.service;
  }
}

/** A bad argument, reported before anything changes. */
export class InvalidArgumentError extends ClusterError {
  override name = "InvalidArgumentError";
  constructor(message: string, options: ClusterErrorOptions = {}) {
    super("INVALID_ARGUMENT", message, options);
  }
}

/**
 * A value that cannot travel on the wire: the path names the first offending
 * part (`content.items[2]`), `reason` says what it is.
 */
export class WireEncodeError extends ClusterError {
  override name = "WireEncodeError";
  /** Where in the value the problem is, like `content.a[0]`. */
  readonly path: string;
  constructor(path: string, reason: string, options: ClusterErrorOptions = {}) {
    const about = options.service === undefined ? "" : ` for service "${options.service}"`;
    super("ENCODE_FAILED", `cannot encode ${path}${about}: ${reason}`, options);
    this.path = path;
  }
}

/** Another live node already uses the name. */
export class DuplicateNodeError extends ClusterError {
  override name = "DuplicateNodeError";
  constructor(node: string, namespace: string) {
    super(
      "DUPLICATE_NODE",
      `node name "${node}" is already used by a live node of cluster namespace "${namespace}": expected a unique node name`,
      { node },
    );
  }
}
