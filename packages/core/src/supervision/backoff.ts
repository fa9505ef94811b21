/**
 * The delay before restart number `attempt` (1 = the first restart in the
 * current period): `initialMs * 2^(attempt-1)`, capped at `maxMs`, with
 * "equal jitter" (half fixed, half random, as in Akka's randomFactor and
 * AWS's backoff note), so services that crashed together do not all
 * restart in the same millisecond.
 */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(maxMs, initialMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
