import { describeThrown } from "./describe-thrown.ts";

/**
 * The one service-name rule of mk (kernel, stores, CLI): ASCII letters and
 * digits, then up to 127 of them or `.`, `_`, `-`. No Unicode look-alikes or
 * NFC/NFD twins; no `/`, NUL, leading dot, `.` or `..`, so a name can also be
 * a file name that never escapes its directory.
 */
export const SERVICE_NAME_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** True when `name` is a string that can name a service. */
export function isValidServiceName(name: unknown): name is string {
  return typeof name === "string" && SERVICE_NAME_PATTERN.test(name);
}

/**
 * Why `name` cannot name a service, as a message that shows what came and what
 * was expected, or `undefined` when it can. Each package throws its own typed
 * error with this message.
 * @example
 * serviceNameProblem("a/b"); // 'invalid service name "a/b": expected ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'
 * serviceNameProblem("echo"); // undefined
 */
export function serviceNameProblem(name: unknown): string | undefined {
  if (isValidServiceName(name)) return undefined;
  return `invalid service name ${showName(name)}: expected ${SERVICE_NAME_PATTERN.source}`;
}

/** How a rejected name is shown: a string quoted (bounded), anything else as its type and a safe description. */
export function showName(name: unknown): string {
  if (typeof name === "string") return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
  return `(${name === null ? "null" : typeof name}) ${describeThrown(name, 80)}`;
}
