export { describeThrown, DEFAULT_DESCRIPTION_LENGTH } from "./describe-thrown.ts";
export { isThenable } from "./is-thenable.ts";
export { SERVICE_NAME_PATTERN, isValidServiceName, serviceNameProblem, showName } from "./service-name.ts";
export { makeDirs, makeDirsSync } from "./make-dirs.ts";
export { CommonError, InvalidArgumentError } from "./errors.ts";
export type { CommonErrorCode } from "./errors.ts";
