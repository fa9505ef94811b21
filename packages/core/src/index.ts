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
  DependencyCycleError,
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
export { ReplyCode } from "./reply-codes.ts";
export type { ReplyCodeValue } from "./reply-codes.ts";
