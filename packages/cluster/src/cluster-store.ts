// clusterStore(): the state store wrapper the cluster owns, adding the owner's epoch to every save (fencing).
import { type LoadedState, type SaveMeta, StateFencedError, type StateStore } from "@mk/state";
import { InvalidArgumentError } from "./errors.ts";

/** What the cluster tells its store wrapper (one cluster at a time). */
export interface Fence {
  /**
   * `null`: the cluster does not manage `name` (saved as given); `undefined`:
   * it does and this node does not own it (refused); a number: this node owns
   * it under that epoch (saved with it); `"drop"`: the cluster is stopping it
   * here because another node owns it (the save is skipped).
   */
  epochOf(name: string): number | null | undefined | "drop";
  /** The store refused a save of `name` as stale: a newer owner took over. */
  fenced(name: string, error: StateFencedError): void;
}

/**
 * A {@link StateStore} for a kernel in a cluster: give the same object to
 * `new Kernel({ store })` and to `joinCluster(kernel, { store })`. Outside a
 * cluster it passes everything through. In one, every save of a service with
 * state carries this node's lease epoch, so the shared store refuses (with
 * `STATE_FENCED`) a save from an owner that lost its lease; a save on a node
 * that does not own the service is refused before it reaches the store.
 */
export class ClusterStateStore implements StateStore {
  /** The store the states are kept in (PostgreSQL, NATS KV, or any store that supports `epoch`). */
  readonly inner: StateStore;
  #fence: Fence | undefined;
  /** Services the kernel loaded through this store (at register): those with `importState`. */
  readonly #loaded = new Set<string>();
  #onLoad: ((name: string) => void) | undefined;

  constructor(inner: StateStore) {
    if (
      typeof inner !== "object" ||
      inner === null ||
      typeof (inner as Partial<StateStore>).save !== "function" ||
      typeof (inner as Partial<StateStore>).load !== "function"
    ) {
      throw new InvalidArgumentError(
        `expected a StateStore (an object with save and load), got ${inner === null ? "null" : typeof inner}`,
      );
    }
    if (inner instanceof ClusterStateStore) throw new InvalidArgumentError("this store is already a ClusterStateStore");
    this.inner = inner;
  }

  /** @internal The cluster that joined with this store; `undefined` when it leaves. */
  attach(fence: Fence | undefined, onLoad?: (name: string) => void): void {
    this.#fence = fence;
    this.#onLoad = onLoad;
  }

  /** @internal True while a cluster uses this store. */
  get attached(): boolean {
    return this.#fence !== undefined;
  }

  /** @internal The services loaded through this store so far. */
  loadedNames(): string[] {
    return Array.from(this.#loaded);
  }

  async save(name: string, state: unknown, meta: SaveMeta = {}): Promise<void> {
    const fence = this.#fence;
    const epoch = fence === undefined ? null : fence.epochOf(name);
    if (epoch === null) return this.inner.save(name, state, meta);
    if (epoch === "drop") return undefined;
    if (epoch === undefined) {
      const error = new StateFencedError(name, 0, 0);
      error.message = `save of "${name}" refused: this node does not hold its lease (another node owns it)`;
      throw error;
    }
    try {
      await this.inner.save(name, state, { ...meta, epoch });
    } catch (error) {
      if (error instanceof StateFencedError || (error as { code?: unknown } | null)?.code === "STATE_FENCED") {
        fence?.fenced(name, error as StateFencedError);
      }
      throw error;
    }
  }

  async load(name: string): Promise<LoadedState | undefined> {
    const loaded = await this.inner.load(name);
    this.#loaded.add(name);
    this.#onLoad?.(name);
    return loaded;
  }

  exists(name: string): Promise<boolean> {
    return this.inner.exists(name);
  }

  delete(name: string): Promise<void> {
    return this.inner.delete(name);
  }

  list(): Promise<string[]> {
    return this.inner.list();
  }

  /** Closes the inner store (a no-op for one without `close`). */
  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/**
 * Wraps `store` for a kernel in a cluster; see {@link ClusterStateStore}.
 *
 * @example
 * const store = clusterStore(new NatsKvStateStore({ servers, crypter }));
 * const kernel = new Kernel({ store });
 * const cluster = await joinCluster(kernel, { servers, node: "node-1", store });
 */
export function clusterStore(store: StateStore): ClusterStateStore {
  return new ClusterStateStore(store);
}
