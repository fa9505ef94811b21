export type {
  CallOptions,
  Event,
  ImportInfo,
  KernelOptions,
  OutgoingEvent,
  RemoteRouter,
  Reply,
  RouteOptions,
  Service,
  ServiceContext,
  ServiceInfo,
  ServiceStats,
  ServiceStatus,
  CloseOptions,
  StopOptions,
} from "./types.ts";
export {
  AlreadyRegisteredError,
  CheckpointFailedError,
  DependencyCycleError,
  InvalidArgumentError,
  InvalidEventError,
  InvalidNameError,
  InvalidStateError,
  KernelClosedError,
  KernelError,
  LifecycleAggregateError,
  LifecycleTimeoutError,
  MissingDependencyError,
  ServiceNotFoundError,
  StartFailedError,
  StateLoadFailedError,
  StateSaveFailedError,
  StopFailedError,
  SwapFailedError,
} from "./errors.ts";
export { SERVICE_NAME_PATTERN } from "@mk/common";
export type { KernelErrorCode, ServiceFailure } from "./errors.ts";
export { Kernel } from "./kernel.ts";
export type {
  CheckpointEvent,
  CheckpointFailedEvent,
  KernelEventListener,
  KernelEventMap,
  KernelEventName,
  StatusChange,
  SwapEvent,
  SwapPhase,
} from "./events.ts";
export { ReplyCode } from "./reply-codes.ts";
export { compareVersions } from "./persistence/semver.ts";
export type { ReplyCodeValue } from "./reply-codes.ts";
export type { RestartType, SupervisionEvent, SupervisionOptions } from "./supervision/policy.ts";
