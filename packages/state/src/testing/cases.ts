// Inputs the conformance suite feeds every backend; exported so a backend's own tests can reuse them.

/** Names every store must refuse with `INVALID_NAME` (a rejected promise, never a synchronous throw). */
export const INVALID_NAMES: readonly unknown[] = [
  "",
  ".",
  "..",
  "../x",
  "../../etc/passwd",
  "a/../../b",
  "a/b",
  "/abs",
  "a\\b",
  "a\0b",
  "\0",
  ".hidden",
  "-dash",
  "_under",
  "a b",
  "tab\t",
  "new\nline",
  "é",
  "ｅcho", // full-width look-alike
  "a".repeat(129),
  "x".repeat(300),
  "a:b",
  "a*",
  123,
  null,
  undefined,
  {},
  ["a"],
  Symbol("a"),
];

export const VALID_EDGE_NAMES: readonly string[] = ["a", "Z", "0", "a".repeat(128), "a.b_c-d", "a..", "x.state", "CON"];

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

/** Values that JSON would silently change, with the path the error must name. */
export function unsupportedCases(): { label: string; state: unknown; path: string; message: RegExp }[] {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic["self"] = cyclic;
  const sparse: unknown[] = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const extra = Object.assign([1, 2], { extra: true });
  const withProto = JSON.parse('{"ok":1,"__proto__":{"polluted":true}}') as unknown;
  let deep: unknown = 1;
  for (let i = 0; i < 300; i++) deep = [deep];
  return [
    {
      label: "Date",
      state: { users: { since: new Date(0) } },
      path: "state.users.since",
      message: /Date is not supported/,
    },
    { label: "Map", state: { users: new Map([["a", 1]]) }, path: "state.users", message: /Map is not supported/ },
    { label: "Set", state: { tags: new Set(["a"]) }, path: "state.tags", message: /Set is not supported/ },
    { label: "BigInt", state: { n: 10n }, path: "state.n", message: /BigInt is not supported/ },
    { label: "undefined property", state: { a: undefined }, path: "state.a", message: /undefined is not supported/ },
    { label: "undefined in array", state: [1, undefined], path: "state[1]", message: /undefined is not supported/ },
    { label: "top-level undefined", state: undefined, path: "state", message: /undefined is not supported/ },
    { label: "function", state: { f: () => 1 }, path: "state.f", message: /function is not supported/ },
    { label: "symbol", state: { s: Symbol("s") }, path: "state.s", message: /symbol is not supported/ },
    { label: "symbol key", state: { [Symbol("k")]: 1 }, path: "state", message: /symbol-keyed/ },
    { label: "NaN", state: { x: Number.NaN }, path: "state.x", message: /NaN is not supported/ },
    { label: "Infinity", state: [Number.POSITIVE_INFINITY], path: "state[0]", message: /Infinity is not supported/ },
    { label: "-Infinity", state: { "a b": Number.NEGATIVE_INFINITY }, path: 'state["a b"]', message: /Infinity/ },
    { label: "-0", state: { zero: -0 }, path: "state.zero", message: /-0 is not supported/ },
    { label: "class instance", state: { p: new Point(1, 2) }, path: "state.p", message: /class Point/ },
    { label: "cycle", state: cyclic, path: "state.self", message: /cycle/ },
    { label: "array hole", state: { list: sparse }, path: "state.list[1]", message: /hole/ },
    { label: "array with extra keys", state: extra, path: "state", message: /non-index/ },
    { label: "__proto__ key", state: withProto, path: "state.__proto__", message: /__proto__/ },
    { label: "too deep", state: deep, path: "state" + "[0]".repeat(256), message: /deeper than 256/ },
    { label: "Uint8Array", state: { bytes: new Uint8Array(2) }, path: "state.bytes", message: /Uint8Array/ },
    { label: "boxed", state: { s: new String("x") }, path: "state.s", message: /boxed/ }, // eslint-disable-line no-new-wrappers
    { label: "RegExp", state: { r: /x/ }, path: "state.r", message: /RegExp/ },
    { label: "Error", state: { e: new Error("x") }, path: "state.e", message: /Error/ },
    { label: "Promise", state: { p: Promise.resolve(1) }, path: "state.p", message: /Promise/ },
  ];
}

/** True when `value` holds no -0 and no `__proto__` key: the JSON values a store must round-trip. */
export function isStorableJson(value: unknown): boolean {
  if (Object.is(value, -0)) return false;
  if (typeof value !== "object" || value === null) return true;
  if (Array.isArray(value)) return value.every(isStorableJson);
  return Object.keys(value).every(
    (key) => key !== "__proto__" && isStorableJson((value as Record<string, unknown>)[key]),
  );
}
