// the public exports, by name.
export { Cluster, joinCluster } from "./cluster.ts";
export type { ClusterRole, ClusterServiceInfo } from "./cluster.ts";
export type { JoinOptions } from "./options.ts";
export { ClusterStateStore, clusterStore } from "./cluster-store.ts";
export {
  ClusterError,
  DuplicateNodeError,
  InvalidArgumentError,
  WireEncodeError,
  type ClusterErrorCode,
  type ClusterErrorOptions,
} from "./errors.ts";
export { WIRE_VERSION } from "./wire.ts";
