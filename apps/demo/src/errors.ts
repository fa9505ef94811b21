/**
 * A failure the demo explains in one line. `hint` says what the user can do;
 * `exitCode` 2 is a usage error, 1 anything else.
 */
export class DemoError extends Error {
  override name = "DemoError";
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** The message of an error and of each cause below it, without repeating itself. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth += 1) {
    const text = current instanceof Error ? current.message : nonError(current);
    const code =
      current instanceof Error && "code" in current && typeof current.code === "string" ? current.code : undefined;
    const last = parts.at(-1);
    if (last === undefined || !last.includes(text)) parts.push(code === undefined ? text : `${text} [${code}]`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}

/** The first error of class `type` in `error`'s cause chain (itself included). */
export function findCause<T extends Error>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 10; depth += 1) {
    if (current instanceof type) return current;
    current = current.cause;
  }
  return undefined;
}

/** Something thrown that is not an Error: say what it is without `[object Object]`. */
function nonError(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    // A cycle or a bigint: its type is all that can be said safely.
    return typeof value;
  }
}
