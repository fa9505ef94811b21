/**
 * An AbortController created only if someone reads the signal, with a reason
 * built only then. Node's AbortController, its abort Event and an Error with
 * its stack each cost more than a no-op start, and most services never look at
 * `ctx.signal`, so the kernel pays only for those that do.
 */
export class LazyAbort {
  #controller: AbortController | undefined;
  #reason: (() => unknown) | undefined;
  #aborted = false;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason?.());
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Aborts (once); `reason` makes the signal's reason when (and if) it is needed. */
  abort(reason: () => unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason());
  }
}
