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
    const text = current instanceof Error ? current.message : String(current);
    const code = current instanceof Error && "code" in current && typeof current.code === "string" ? current.code : undefined;
    const last = parts.at(-1);
    if (last === undefined || !last.includes(text)) parts.push(code === undefined ? text : `${text} [${code}]`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}
