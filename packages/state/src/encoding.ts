import { StateEncodeError, StateError } from "./errors.ts";
import { describeThrown } from "@mk/common";

/**
 * The JSON data model, enforced: every value `encodeState` accepts comes back from
 * `decodeState` deeply equal (same types, same keys, same numbers). Anything
 * JSON.stringify would silently change (a Date to a string, a Map to `{}`, an
 * `undefined` property dropped, NaN to null, -0 to 0, a cycle to a crash) is
 * refused with a {@link StateEncodeError} naming where it sits.
 */

/** Default cap on nesting depth, on save and on load (a hostile file must not exhaust the stack). */
export const DEFAULT_MAX_DEPTH = 256;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

type Segment = string | number;

function formatPath(segments: readonly Segment[]): string {
  let out = "state";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

const HINTS: ReadonlyMap<unknown, string> = new Map<unknown, string>([
  [
    Date.prototype,
    "Date is not supported (JSON would turn it into a string); store date.toISOString() or date.getTime()",
  ],
  [Map.prototype, "Map is not supported (JSON would turn it into {}); store Object.fromEntries(map) or [...map]"],
  [Set.prototype, "Set is not supported (JSON would turn it into {}); store [...set]"],
  [RegExp.prototype, "RegExp is not supported (JSON would turn it into {}); store its source and flags"],
  [WeakMap.prototype, "WeakMap is not supported"],
  [WeakSet.prototype, "WeakSet is not supported"],
  [Promise.prototype, "a Promise is not supported; await it before saving"],
  [Error.prototype, "an Error is not supported (JSON would turn it into {}); store its message"],
]);

function describeObject(value: object): string {
  const proto: unknown = Object.getPrototypeOf(value);
  const hint = HINTS.get(proto);
  if (hint !== undefined) return hint;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    return `${value.constructor.name} is not supported; store an array of numbers or a base64 string`;
  }
  if (value instanceof Error) return "an Error is not supported (JSON would turn it into {}); store its message";
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    return "a boxed primitive is not supported; store the primitive";
  }
  const ctor = (proto as { constructor?: { name?: unknown } } | null)?.constructor;
  const name = typeof ctor?.name === "string" && ctor.name !== "" ? ctor.name : "(anonymous)";
  return `an instance of class ${name} is not supported (it would load as a plain object); store a plain object`;
}

class Checker {
  readonly #maxDepth: number;
  readonly #service: string | undefined;
  readonly #segments: Segment[] = [];
  readonly #ancestors = new Set<object>();

  constructor(maxDepth: number, service: string | undefined) {
    this.#maxDepth = maxDepth;
    this.#service = service;
  }

  fail(reason: string): never {
    throw new StateEncodeError(formatPath(this.#segments), reason, this.#service);
  }

  /** Reads a property; a getter that throws becomes an error naming the path. */
  read(container: object, key: string | number): unknown {
    try {
      return (container as Record<string | number, unknown>)[key];
    } catch (cause) {
      throw new StateEncodeError(
        formatPath(this.#segments),
        `reading it threw: ${describeThrown(cause)}`,
        this.#service,
        cause,
      );
    }
  }

  check(value: unknown, depth: number): void {
    switch (typeof value) {
      case "string":
      case "boolean":
        return;
      case "number":
        if (!Number.isFinite(value)) this.fail(`${String(value)} is not supported (JSON would store it as null)`);
        if (Object.is(value, -0)) this.fail("-0 is not supported (JSON would store it as 0); store 0");
        return;
      case "undefined":
        return this.fail("undefined is not supported (JSON would drop it or store null); omit the key or store null");
      case "bigint":
        return this.fail("BigInt is not supported (JSON cannot store it); store value.toString()");
      case "function":
        return this.fail("a function is not supported (JSON would drop it)");
      case "symbol":
        return this.fail("a symbol is not supported (JSON would drop it)");
      case "object":
        if (value === null) return;
        this.checkObject(value, depth);
    }
  }

  checkObject(value: object, depth: number): void {
    if (depth >= this.#maxDepth) this.fail(`nesting deeper than ${this.#maxDepth} levels is not supported`);
    if (this.#ancestors.has(value)) this.fail("a cycle is not supported (the value contains itself)");
    if (Object.getOwnPropertySymbols(value).length > 0) {
      this.fail("symbol-keyed properties are not supported (JSON would drop them)");
    }
    this.#ancestors.add(value);
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) this.fail(describeObject(value));
      const length = value.length;
      let indexed = 0;
      for (let i = 0; i < length; i++) {
        if (!(i in value)) {
          this.#segments.push(i);
          this.fail("an array hole is not supported (JSON would store null)");
        }
        indexed++;
        this.#segments.push(i);
        this.check(this.read(value, i), depth + 1);
        this.#segments.pop();
      }
      if (Object.keys(value).length !== indexed) {
        this.fail("non-index properties on an array are not supported (JSON would drop them)");
      }
    } else {
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) this.fail(describeObject(value));
      for (const key of Object.keys(value)) {
        this.#segments.push(key);
        if (key === "__proto__") this.fail("a __proto__ key is not supported (it invites prototype pollution)");
        this.check(this.read(value, key), depth + 1);
        this.#segments.pop();
      }
    }
    this.#ancestors.delete(value);
  }
}

/** Exactly the Checker's rules, as a yes/no: about half the cost of JSON.stringify on typical state. */
function isPlainData(value: unknown, depth: number, maxDepth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (depth >= maxDepth || Object.getOwnPropertySymbols(value).length > 0) return false;
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return false;
        const length = value.length;
        for (let i = 0; i < length; i++) {
          if (!(i in value) || !isPlainData(value[i], depth + 1, maxDepth)) return false;
        }
        return Object.keys(value).length === length;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      // for-in walks V8's enum cache without building a key array (several times faster than
      // Object.keys on small records). It also visits inherited enumerable keys (a polluted
      // Object.prototype): that can only make this check stricter, and a false here just
      // hands the value to the Checker, which follows Object.keys exactly.
      for (const key in value) {
        if (key === "__proto__" || !isPlainData((value as Record<string, unknown>)[key], depth + 1, maxDepth))
          return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Serializes `state` to JSON text after checking it holds only values that survive
 * a round trip unchanged.
 * @throws StateEncodeError (`STATE_ENCODE_FAILED`) naming the path of the first offending value.
 */
export function encodeState(state: unknown, maxDepth: number = DEFAULT_MAX_DEPTH, service?: string): string {
  // The fast check keeps no path and no cycle set (a cycle trips the depth cap); only
  // when it fails does the Checker walk again to say where and why.
  let plain: boolean;
  try {
    plain = isPlainData(state, 0, maxDepth);
  } catch {
    // A throwing getter (or proxy trap): the Checker walks again and reports where.
    plain = false;
  }
  if (!plain) {
    try {
      new Checker(maxDepth, service).check(state, 0);
    } catch (error) {
      if (error instanceof StateError) throw error;
      // A revoked proxy or a throwing trap: still a typed error, never a raw one.
      const reason = `inspecting the state threw: ${describeThrown(error)}`;
      throw new StateEncodeError("state", reason, service, error);
    }
  }
  // The check above guarantees plain data, so stringify cannot throw or return undefined.
  return JSON.stringify(state);
}

/** Depth cap up to which {@link inspectParsed} may recurse (a few hundred frames at most). */
const RECURSIVE_INSPECT_LIMIT = 1024;

/**
 * {@link inspectParsed}'s walk, recursive, in the same order as its work stack (an object's own
 * keys checked first, then its children last to first), so a value with several problems names
 * the same one.
 */
function inspectRecursive(value: object, depth: number, maxDepth: number): string | undefined {
  if (depth >= maxDepth) return `nesting deeper than ${maxDepth} levels`;
  if (Array.isArray(value)) {
    for (let i = value.length - 1; i >= 0; i--) {
      const element: unknown = value[i];
      if (typeof element === "object" && element !== null) {
        const problem = inspectRecursive(element, depth + 1, maxDepth);
        if (problem !== undefined) return problem;
      }
    }
    return undefined;
  }
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) if (keys[i] === "__proto__") return "a __proto__ key";
  for (let i = keys.length - 1; i >= 0; i--) {
    const child = (value as Record<string, unknown>)[keys[i] as string];
    if (typeof child === "object" && child !== null) {
      const problem = inspectRecursive(child, depth + 1, maxDepth);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

/**
 * Verifies a parsed value against the load-side rules: no `__proto__` keys, depth
 * within the cap. Iterative, so a hostile file nested 10^6 deep cannot overflow the stack.
 * @returns a reason, or `undefined` when the value is fine.
 */
export function inspectParsed(value: unknown, maxDepth: number): string | undefined {
  // Recursion without a work stack is about twice as fast; it is bounded by maxDepth, so it
  // is only used when that bound is well within the call stack.
  if (maxDepth <= RECURSIVE_INSPECT_LIMIT) {
    return typeof value === "object" && value !== null ? inspectRecursive(value, 0, maxDepth) : undefined;
  }
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [current, depth] = item;
    if (typeof current !== "object" || current === null) continue;
    if (depth >= maxDepth) return `nesting deeper than ${maxDepth} levels`;
    if (Array.isArray(current)) {
      for (const element of current) stack.push([element, depth + 1]);
    } else {
      for (const key of Object.keys(current)) {
        if (key === "__proto__") return "a __proto__ key";
        stack.push([(current as Record<string, unknown>)[key], depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * Parses JSON text produced by {@link encodeState} (or a legacy file).
 * @throws StateError `STATE_CORRUPT` when the text is not JSON, nests too deep or has a `__proto__` key.
 */
export function decodeState(text: string, maxDepth: number = DEFAULT_MAX_DEPTH, service?: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw corrupt("not valid JSON", service, cause);
  }
  const problem = inspectParsed(value, maxDepth);
  if (problem !== undefined) throw corrupt(`refused: the state contains ${problem}`, service);
  return value;
}

function corrupt(reason: string, service: string | undefined, cause?: unknown): StateError {
  return new StateError("STATE_CORRUPT", `${service === undefined ? "state" : `state of "${service}"`}: ${reason}`, {
    service,
    cause,
  });
}
