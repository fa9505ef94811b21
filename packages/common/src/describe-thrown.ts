import { inspect, types } from "node:util";

/** Longest description {@link describeThrown} returns unless told otherwise. */
export const DEFAULT_DESCRIPTION_LENGTH = 1000;

// No custom inspectors and no getters: inspecting runs none of the value's own code.
const INSPECT_OPTIONS = {
  depth: 2,
  breakLength: Number.POSITIVE_INFINITY,
  maxArrayLength: 10,
  maxStringLength: 200,
  getters: false,
  customInspect: false,
  showProxy: false,
} as const;

/**
 * Turns any thrown value into text for a message or a log line, and never
 * throws: an `Error` gives its `message` (its name when the message is empty),
 * a string itself, other primitives `String(value)`, and other objects a
 * `util.inspect` rendering that runs none of their code (no getters, no custom
 * inspectors, a Proxy's target instead of its traps), so null-prototype
 * objects, cyclic objects, Proxies and Errors whose `message`, `toString` or
 * getters throw are all described. The result has at most `maxLength`
 * characters (a longer text is cut and ends with `…`).
 *
 * @param maxLength at least 16; anything else means the default.
 * @default maxLength 1000
 * @example
 * describeThrown(new Error("disk full")); // "disk full"
 * describeThrown(Object.create(null)); // "[Object: null prototype] {}"
 * describeThrown(new Proxy({}, { get() { throw new Error("trap"); } })); // "Proxy {}"
 */
export function describeThrown(value: unknown, maxLength: number = DEFAULT_DESCRIPTION_LENGTH): string {
  const limit =
    typeof maxLength === "number" && Number.isInteger(maxLength) && maxLength >= 16
      ? maxLength
      : DEFAULT_DESCRIPTION_LENGTH;
  let text: string;
  try {
    text = describe(value);
  } catch {
    // Every step above is guarded; this is the floor if the runtime itself throws (stack overflow).
    text = `[unprintable ${typeof value}]`;
  }
  return bound(text, limit);
}

function describe(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "symbol":
      return safe(() => value.toString(), "Symbol()");
    case "function":
      return `[function ${safe(() => String(Reflect.getOwnPropertyDescriptor(value, "name")?.value ?? ""), "")}]`;
    case "object":
      return value === null ? "null" : describeObject(value);
    default:
      // number, bigint, boolean, undefined: String() cannot be overridden for these.
      return String(value);
  }
}

function describeObject(value: object): string {
  // A Proxy's traps may throw on anything (even `instanceof`): describe its target, without traps.
  if (types.isProxy(value)) return `Proxy ${inspectSafely(value)}`;
  if (isError(value)) {
    const message = safe(() => (value as Error).message, undefined);
    if (typeof message === "string" && message !== "") return message;
    const name = safe(() => (value as Error).name, undefined);
    if (typeof message === "string") return typeof name === "string" && name !== "" ? name : "Error";
    // `message` threw or is not a string: toString may still work; else say what it is.
    const text = safe(() => Error.prototype.toString.call(value), undefined);
    if (typeof text === "string") return text;
    return `[${constructorName(value) ?? "Error"} with an unreadable message]`;
  }
  return inspectSafely(value);
}

function isError(value: object): boolean {
  if (types.isNativeError(value)) return true;
  return safe(() => value instanceof Error, false);
}

function inspectSafely(value: object): string {
  return safe(
    () => inspect(value, INSPECT_OPTIONS),
    () => `[unprintable ${constructorName(value) ?? "object"}]`,
  );
}

/** The name of the constructor on the prototype chain, read through descriptors (no getter runs). */
function constructorName(value: object): string | undefined {
  return safe(() => {
    for (let proto: unknown = Reflect.getPrototypeOf(value), i = 0; proto !== null && i < 32; i++) {
      const ctor: unknown = Reflect.getOwnPropertyDescriptor(proto as object, "constructor")?.value;
      if (typeof ctor === "function") {
        const name: unknown = Reflect.getOwnPropertyDescriptor(ctor, "name")?.value;
        if (typeof name === "string" && name !== "") return name;
      }
      proto = Reflect.getPrototypeOf(proto as object);
    }
    return undefined;
  }, undefined);
}

function safe<T, F>(read: () => T, fallback: F | (() => F)): T | F {
  try {
    return read();
  } catch {
    // The value's own code threw while being read: that is what this module exists to survive.
    return typeof fallback === "function" ? (fallback as () => F)() : fallback;
  }
}

function bound(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = limit - 1;
  // Never cut a surrogate pair in half.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}
