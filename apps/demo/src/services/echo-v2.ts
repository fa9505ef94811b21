import type { Event, ImportInfo, Reply, Service, ServiceContext } from "@mk/core";
import type { Logger } from "@mk/logger";
import { readEchoCount } from "./echo-state.ts";
import type { ImportedEchoState } from "./echo-v1.ts";

/** What v2 adds to the counter per message (the reference's v2 added 8: 2 + 8 = "count is 10"). */
export const ECHO_V2_STEP = 8;

/**
 * The reference's second echo, swapped in while the kernel runs: answers
 * `echo v2 service handled`, adds 8 per message and logs `count is N`.
 */
export class EchoV2 implements Service {
  readonly name = "echo";
  readonly version: string = "2.0.0";
  #count = 0;
  #imported: ImportedEchoState | undefined;
  #logger: Logger | undefined;

  get count(): number {
    return this.#count;
  }

  get imported(): ImportedEchoState | undefined {
    return this.#imported;
  }

  start(ctx: ServiceContext): void {
    this.#logger = ctx.logger;
    ctx.logger.info("starting v2... (count %d)", this.#count);
  }

  stop(): void {
    this.#logger?.info("stopping v2... (count %d)", this.#count);
  }

  handle(event: Event, ctx: ServiceContext): Reply {
    this.#count += ECHO_V2_STEP;
    ctx.logger.info("count is %d", this.#count);
    return { code: 0, message: "echo v2 service handled", data: `from ${event.from}: ${String(event.content)}` };
  }

  /** v2's own shape; v1 reads it too. */
  exportState(): { count: number } {
    return { count: this.#count };
  }

  importState(state: unknown, info: ImportInfo): void {
    this.#count = readEchoCount(state);
    this.#imported =
      info.fromVersion === undefined ? { count: this.#count } : { count: this.#count, fromVersion: info.fromVersion };
  }
}
