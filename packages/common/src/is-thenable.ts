/**
 * True when `value` is an object or function with a callable `then`, the
 * Promises/A+ test for "something to await". Reading `then` runs a getter if
 * there is one; callers holding foreign values guard the call.
 * @throws whatever a `then` getter (or a Proxy's `get` trap) throws.
 * @example
 * isThenable(Promise.resolve(1)); // true
 * isThenable({ then: 1 }); // false
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
