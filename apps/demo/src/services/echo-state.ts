/**
 * The echo counter as it is stored. v1 writes a bare JSON number (exactly what
 * the reference Go program wrote, so its files import as they are); v2 writes
 * `{ "count": N }`. Both versions read both shapes, so a downgrade after a
 * v2 run (the demo's next start registers v1 again) keeps the counter too.
 */
export function readEchoCount(state: unknown): number {
  const count = typeof state === "object" && state !== null && "count" in state ? state.count : state;
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) {
    throw new TypeError(
      `echo state: expected a non-negative integer or { "count": <integer> }, got ${describe(state)}`,
    );
  }
  return count;
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Not JSON-able (a cycle, a bigint): the type is enough to say what was wrong.
    return typeof value;
  }
}
