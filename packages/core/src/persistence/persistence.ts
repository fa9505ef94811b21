import { isDeepStrictEqual } from "node:util";
import type { StateStore } from "@mk/state";
import { StateLoadFailedError, StateSaveFailedError } from "../errors.ts";
import type { ServiceRecord } from "../registry/service-record.ts";
import type { ImportInfo, Service } from "../types.ts";

/**
 * Moves service state between services and the kernel's `StateStore`. Without
 * a store every method is a no-op, so the kernel does not branch on it.
 */
export class Persistence {
  readonly #store: StateStore | undefined;

  constructor(store: StateStore | undefined) {
    this.#store = store;
  }

  get enabled(): boolean {
    return this.#store !== undefined;
  }

  /** True when `service` has state the kernel can save. */
  canSave(service: Service): boolean {
    return this.#store !== undefined && typeof service.exportState === "function";
  }

  /**
   * Loads the stored state of `service` (if the store has one and the service
   * can import it) and imports it. Returns what was loaded, to remember as the
   * last saved state.
   * @throws {StateLoadFailedError} when the load or the import fails.
   */
  async loadState(service: Service): Promise<{ state: unknown } | undefined> {
    if (this.#store === undefined || typeof service.importState !== "function") return undefined;
    try {
      const loaded = await this.#store.load(service.name);
      if (loaded === undefined) return undefined;
      const info: ImportInfo = {};
      if (loaded.version !== undefined) info.fromVersion = loaded.version;
      await service.importState(loaded.state, info);
      return snapshot(loaded.state);
    } catch (error) {
      throw new StateLoadFailedError(service.name, error);
    }
  }

  /**
   * Exports the current version's state and saves it with its version.
   * Returns `false` (without saving) when nothing can be saved, or when
   * `onlyIfChanged` and the state equals the last one saved or loaded.
   * @throws {StateSaveFailedError} when the export or the save fails; the
   * store's previous copy is left as it was.
   */
  async saveState(record: ServiceRecord, options: { onlyIfChanged?: boolean } = {}): Promise<boolean> {
    const service = record.service;
    if (this.#store === undefined || typeof service.exportState !== "function") return false;
    let state: unknown;
    try {
      state = await service.exportState();
      if (
        options.onlyIfChanged === true &&
        record.lastSaved !== undefined &&
        isDeepStrictEqual(state, record.lastSaved.state)
      ) {
        return false;
      }
      await this.#store.save(record.name, state, service.version === undefined ? {} : { version: service.version });
    } catch (error) {
      throw new StateSaveFailedError(record.name, error);
    }
    record.lastSaved = snapshot(state);
    return true;
  }
}

/**
 * A deep copy to compare later exports against: the service may mutate the
 * object it exported. State that cannot be cloned (functions, ...) is never
 * considered unchanged, so it is saved every time.
 */
function snapshot(state: unknown): { state: unknown } | undefined {
  try {
    return { state: structuredClone(state) };
  } catch {
    // Not cloneable: no snapshot means "always save", which is safe.
    return undefined;
  }
}
