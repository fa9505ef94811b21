import { describeThrown } from "@mk/common";
import type { Logger } from "@mk/logger";
import type { KernelEventListener, KernelEventMap, KernelEventName } from "./events.ts";
import { InvalidArgumentError } from "./errors.ts";

/**
 * A small typed emitter. Listeners run synchronously in subscription order; a
 * listener that throws is logged and never breaks the kernel operation that
 * emitted the event, nor the other listeners.
 */
export class KernelEvents {
  readonly #listeners = new Map<KernelEventName, Set<(event: never) => void>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Subscribes `listener` to `event`; the returned function unsubscribes it (idempotent). */
  on<K extends KernelEventName>(event: K, listener: KernelEventListener<K>): () => void {
    if (typeof listener !== "function")
      throw new InvalidArgumentError(`expected a listener function for "${event}", got ${typeof listener}`);
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    // Wrap so the same function subscribed twice gets two independent subscriptions.
    const entry = (e: never): void => listener(e);
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  emit<K extends KernelEventName>(event: K, payload: KernelEventMap[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined || set.size === 0) return;
    // A snapshot, so a listener that unsubscribes (or subscribes) during the emit does not change this round.
    for (const listener of Array.from(set)) {
      try {
        (listener as KernelEventListener<K>)(payload);
      } catch (error) {
        this.#logger.error("a %s listener threw: %s", event, describeThrown(error));
      }
    }
  }

  /** True when someone listens to `event`, so emitters can skip building payloads. */
  has(event: KernelEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }
}
