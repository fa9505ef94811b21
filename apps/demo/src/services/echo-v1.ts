import type { Event, ImportInfo, Reply, Service, ServiceContext } from "@mk/core";
import type { Logger } from "@mk/logger";
import { readEchoCount } from "./echo-state.ts";

/** What v1 adds to the counter per message (the reference's v1 counted one by one). */
export const ECHO_V1_STEP = 1;

/** What an echo service knows about the state it imported, for the demo's narration. */
export interface ImportedEchoState {
  count: number;
  /** The version that exported it; absent for a reference (Go) file. */
  fromVersion?: string;
}

/**
 * The reference's first echo: answers every event with `echo service handled`
 * and counts the messages it has handled.
 */
export class EchoV1 implements Service {
  readonly name = "echo";
  readonly version: string = "1.0.0";
  #count = 0;
  #imported: ImportedEchoState | undefined;
  #logger: Logger | undefined;

  /** Messages counted so far, carried over from earlier runs and versions. */
  get count(): number {
    return this.#count;
  }

  /** The last state imported (on register or in a swap), if any. */
  get imported(): ImportedEchoState | undefined {
    return this.#imported;
  }

  start(ctx: ServiceContext): void {
    this.#logger = ctx.logger;
    ctx.logger.info("starting v1... (count %d)", this.#count);
  }

  stop(): void {
    this.#logger?.info("stopping v1... (count %d)", this.#count);
  }

  handle(event: Event): Reply {
    this.#count += ECHO_V1_STEP;
    return { code: 0, message: "echo service handled", data: `from ${event.from}: ${String(event.content)}` };
  }

  /** A bare JSON number: the reference's own format. */
  exportState(): number {
    return this.#count;
  }

  importState(state: unknown, info: ImportInfo): void {
    this.#count = readEchoCount(state);
    this.#imported =
      info.fromVersion === undefined ? { count: this.#count } : { count: this.#count, fromVersion: info.fromVersion };
  }
}
