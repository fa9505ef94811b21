export type {
  CallOptions,
  Event,
  ImportInfo,
  KernelOptions,
  OutgoingEvent,
  Reply,
  Service,
  ServiceContext,
  ServiceInfo,
  ServiceStats,
  ServiceStatus,
  StatusChange,
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
  SERVICE_NAME_PATTERN,
} from "./errors.ts";
export type { KernelErrorCode, ServiceFailure } from "./errors.ts";
export { Kernel } from "./kernel.ts";
export type { CloseOptions } from "./kernel.ts";
export type { StopOptions } from "./cascade.ts";
export type {
  CheckpointEvent,
  CheckpointFailedEvent,
  KernelEventListener,
  KernelEventMap,
  KernelEventName,
} from "./kernel-events.ts";
export type { SwapEvent, SwapPhase } from "./hot-swap.ts";
export { ReplyCode } from "./reply-codes.ts";
export type { ReplyCodeValue } from "./reply-codes.ts";
