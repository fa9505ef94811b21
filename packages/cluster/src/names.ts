import { SERVICE_NAME_PATTERN } from "@mk/core";

/** True when `name` follows the service name rule (node names follow it too). */
export function isName(name: unknown): name is string {
  return typeof name === "string" && SERVICE_NAME_PATTERN.test(name);
}

/** Namespaces are one NATS subject token: letters, digits, `_` and `-`. */
export const NAMESPACE_PATTERN: RegExp = /^[A-Za-z0-9_-]{1,64}$/;
