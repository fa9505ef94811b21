/**
 * Awaits `value` (a promise or a plain value) for at most `timeoutMs`;
 * `timeoutMs` that is not a positive finite number means no deadline.
 * A plain value returns at once without arming a timer, which keeps
 * synchronous `start`/`stop` methods cheap.
 * @throws whatever `value` rejects with, or `onTimeout()` at the deadline.
 */
export function withDeadline(value: unknown, timeoutMs: number, onTimeout: () => Error): Promise<void> | undefined {
  if (!isThenable(value)) return undefined;
  if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) return Promise.resolve(value).then(() => undefined);
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    value.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
