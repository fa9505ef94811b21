// strict JSON check with the path of what cannot travel.
import { WireEncodeError } from "./errors.ts";

/** Deepest nesting a value may have on the wire (encode and decode). */
export const MAX_DEPTH = 64;

/**
 * Checks that `value` survives `JSON.stringify` then `JSON.parse` unchanged:
 * `null`, booleans, finite numbers, strings, arrays and plain objects, nested
 * at most {@link MAX_DEPTH} deep, without cycles. An object property whose
 * value is `undefined` is left out, as JSON does (absent and undefined read
 * the same). Anything else (`undefined` in an array or as the whole value,
 * functions, symbols, bigints, `NaN`, dates, maps, class instances, `toJSON`
 * owners) is refused, naming its path, instead of being silently changed in transit.
 * @throws {WireEncodeError}
 */
export function assertStrictJson(value: unknown, path: string, service?: string): void {
  check(value, path, 0, service);
}

function check(value: unknown, path: string, depth: number, service: string | undefined): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) fail(path, `${String(value)} is not a finite number`, service);
      return;
    case "object":
      break;
    case "undefined":
      fail(path, "undefined has no JSON form (omit the property instead)", service);
      return;
    default:
      fail(path, `a ${typeof value} has no JSON form`, service);
      return;
  }
  if (value === null) return;
  if (depth >= MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH} levels (or a cycle)`, service);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) fail(`${path}[${i}]`, "a hole in an array has no JSON form", service);
      check(value[i], `${path}[${i}]`, depth + 1, service);
    }
    return;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    const kind = (value as { constructor?: { name?: unknown } }).constructor?.name;
    fail(path, `a ${typeof kind === "string" && kind !== "" ? kind : "non-plain object"} is not plain JSON`, service);
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    fail(path, "an object with toJSON() would travel changed", service);
  }
  if (Object.getOwnPropertySymbols(value).length > 0) fail(path, "symbol keys have no JSON form", service);
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) check(item, `${path}.${key}`, depth + 1, service);
  }
}

function fail(path: string, reason: string, service: string | undefined): never {
  throw new WireEncodeError(path, reason, service === undefined ? {} : { service });
}
