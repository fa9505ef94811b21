// An Error in pino's err layout (type, message and stack with the causes), as pino writes it.

/** What pino's serializer counts as an error: anything with a string `message`. */
function isErrorLike(value: unknown): value is { message: string; stack?: unknown; cause?: unknown } {
  return typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string";
}

/** The cause an error points to, VError's `cause()` function included; only an error-like one counts. */
function causeOf(error: object): { message: string; stack?: unknown; cause?: unknown } | undefined {
  const cause = (error as { cause?: unknown }).cause;
  const value: unknown = typeof cause === "function" ? (cause as () => unknown).call(error) : cause;
  return isErrorLike(value) ? value : undefined;
}

function stackWithCauses(error: { stack?: unknown }, seen: Set<object>): string {
  const stack = typeof error.stack === "string" ? error.stack : "";
  if (seen.has(error)) return stack + "\ncauses have become circular...";
  const cause = causeOf(error);
  if (cause === undefined) return stack;
  seen.add(error);
  return stack + "\ncaused by: " + stackWithCauses(cause, seen);
}

function messageWithCauses(error: { message: string; cause?: unknown }, seen: Set<object>, skip: boolean): string {
  const message = skip ? "" : error.message;
  if (seen.has(error)) return message + ": ...";
  const cause = causeOf(error);
  if (cause === undefined) return message;
  seen.add(error);
  const verrorStyle = typeof error.cause === "function";
  return message + (verrorStyle ? "" : ": ") + messageWithCauses(cause, seen, verrorStyle);
}

/**
 * `error` as a plain object in the layout of pino's standard `err` serializer
 * (pino-std-serializers 7), so pino-pretty and log shippers read mk's records as pino's:
 * `{ type, message, stack, ...enumerable properties, aggregateErrors? }`, where `message`
 * carries the causes' messages ("save failed: disk full") and `stack` the causes' stacks
 * ("...\ncaused by: Error: disk full\n..."). Reads the error's properties (getters
 * included); a getter that throws makes it throw, which the JSON writer turns into
 * `"[unserializable: …]"`.
 */
export function serializeError(error: Error, seen: Set<object> = new Set()): Record<string, unknown> {
  seen.add(error);
  const out: Record<string, unknown> = {};
  const ctor = (error as { constructor?: unknown }).constructor;
  out["type"] = typeof ctor === "function" ? ctor.name : error.name;
  out["message"] = messageWithCauses(error, new Set(), false);
  out["stack"] = stackWithCauses(error, new Set());
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) {
    out["aggregateErrors"] = errors.map((e: unknown) => (e instanceof Error ? serializeError(e, seen) : e));
  }
  for (const key in error) {
    if (out[key] !== undefined) continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (isErrorLike(value)) {
      // The causes are in message and stack already; an error seen before would loop.
      if (key !== "cause" && !seen.has(value)) {
        out[key] = value instanceof Error ? serializeError(value, seen) : value;
      }
    } else {
      out[key] = value;
    }
  }
  return out;
}
