/**
 * OTP's restart intensity for one service: at most `maxRestarts` restarts
 * within any `periodMs`; a crash that would need one more gives up.
 */
export class RestartWindow {
  readonly #times: number[] = [];

  /** Restarts counted in the window ending `now`. */
  count(now: number, periodMs: number): number {
    while (this.#times.length > 0 && (this.#times[0] as number) <= now - periodMs) this.#times.shift();
    return this.#times.length;
  }

  /** True (and the restart is counted) when one more restart fits in the window; false means give up. */
  admit(now: number, periodMs: number, maxRestarts: number): boolean {
    if (this.count(now, periodMs) >= maxRestarts) return false;
    this.#times.push(now);
    return true;
  }
}
