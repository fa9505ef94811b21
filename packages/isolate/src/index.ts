export { isolated } from "./isolated.ts";
export type { IsolatedOptions, IsolateMode, RestartPolicy } from "./options.ts";
export type { ResourceLimits } from "./transport.ts";
export {
  InvalidArgumentError,
  IsolateCrashedError,
  IsolateError,
  ModuleLoadError,
  NotCloneableError,
  RemoteError,
  ISOLATE_ERROR_CODES,
} from "./errors.ts";
export type { CrashKind, IsolateErrorCode } from "./errors.ts";
