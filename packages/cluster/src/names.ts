// node names follow the service name rule; the namespace is one subject token.
import { isValidServiceName } from "@mk/common";

/** True when `name` follows the service name rule (node names follow it too). */
export function isName(name: unknown): name is string {
  return isValidServiceName(name);
}

/** Namespaces are one NATS subject token: letters, digits, `_` and `-`. */
export const NAMESPACE_PATTERN: RegExp = /^[A-Za-z0-9_-]{1,64}$/;
