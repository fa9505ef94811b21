import type { OutgoingEvent, Reply, Service, ServiceContext } from "@mk/core";
import { replyText } from "../reply-text.ts";
import type { Logger } from "@mk/logger";

/** The two lines of the reference scenario. */
export const DEFAULT_LINES: readonly string[] = ["Hello, Microkernel!", "Hello, Echo!"];

/**
 * The reference's `logger` service. Once started, it logs its lines and
 * pushes each one through the kernel's queue, alternately to the kernel
 * itself and to `echo`, logging every reply. It depends on `echo`, so the
 * kernel starts it after `echo` and stops it before.
 *
 * Its state is the number of lines it has logged over all runs.
 */
export class LoggerService implements Service {
  readonly name = "logger";
  readonly version: string = "1.0.0";
  readonly dependencies: readonly string[] = ["echo"];
  readonly #lines: readonly string[];
  #logged = 0;
  #imported: number | undefined;
  #logger: Logger | undefined;
  // Settles with the error instead of rejecting, so a failure is reported by
  // `done()` rather than as an unhandled rejection.
  #run: Promise<unknown> = Promise.resolve(undefined);

  constructor(lines: readonly string[] = DEFAULT_LINES) {
    this.#lines = lines;
  }

  /** Lines logged over all runs. */
  get logged(): number {
    return this.#logged;
  }

  /** The count imported from saved state, if any. */
  get imported(): number | undefined {
    return this.#imported;
  }

  start(ctx: ServiceContext): void {
    this.#logger = ctx.logger;
    ctx.logger.info("starting... (%d lines logged so far)", this.#logged);
    // Runs after start returns, as the reference's goroutine did: a start that
    // waited for replies would hold up the rest of startAll.
    this.#run = this.#logAll(ctx).then(
      () => undefined,
      (error: unknown) => error ?? new Error("logger run failed"),
    );
  }

  stop(): void {
    this.#logger?.info("stopping... (%d lines logged so far)", this.#logged);
  }

  /** Resolves when every line has been logged and answered; rejects with what went wrong. */
  async done(): Promise<void> {
    const error = await this.#run;
    if (error !== undefined) throw error;
  }

  exportState(): { lines: number } {
    return { lines: this.#logged };
  }

  importState(state: unknown): void {
    const lines = typeof state === "object" && state !== null && "lines" in state ? state.lines : undefined;
    if (typeof lines !== "number" || !Number.isSafeInteger(lines) || lines < 0) {
      throw new TypeError(`logger state: expected { "lines": <non-negative integer> }, got ${JSON.stringify(state)}`);
    }
    this.#logged = lines;
    this.#imported = lines;
  }

  async #logAll(ctx: ServiceContext): Promise<void> {
    // Wait one turn of the event loop so the kernel has marked this service
    // running (and said so) before the first line goes out.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const [index, line] of this.#lines.entries()) {
      if (ctx.signal.aborted) return;
      this.#logged += 1;
      ctx.logger.info("LOG: %s", line);
      // Even lines go to the kernel itself (no `to`), odd ones to echo.
      const forEcho = index % 2 === 1;
      const event: OutgoingEvent = forEcho
        ? { to: "echo", type: "log", content: line }
        : { type: "log", content: line };
      const reply: Reply = await ctx.push(event);
      ctx.logger.info("got reply from %s: %s", forEcho ? "echo" : "kernel", replyText(reply));
    }
  }
}
