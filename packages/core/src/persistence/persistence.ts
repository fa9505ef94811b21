import { isDeepStrictEqual } from "node:util";
import type { Logger } from "@mk/logger";
import type { StateStore } from "@mk/state";
import { StateLoadFailedError, StateSaveFailedError } from "../errors.ts";
import type { ServiceRecord } from "../registry/service-record.ts";
import type { ImportInfo, Service } from "../types.ts";
import { compareVersions } from "./semver.ts";

/**
 * The one road between services and the kernel's `StateStore` (handed over
 * once, here): the load at register, the save before a stop and at each
 * checkpoint, and a hot swap's transfer. It alone keeps `record.lastSaved`.
 * Without a store every method is a no-op (the swap's transfer is a
 * structured clone), so the kernel does not branch on it.
 */
export class Persistence {
  readonly #store: StateStore | undefined;
  readonly #logger: Logger;

  constructor(store: StateStore | undefined, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
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
   * can import it) and imports it with the version that saved it. Returns
   * what was loaded, to remember as the last saved state.
   * @throws {StateLoadFailedError} when the load or the import fails.
   */
  async loadState(service: Service): Promise<{ state: unknown } | undefined> {
    if (this.#store === undefined || typeof service.importState !== "function") return undefined;
    try {
      const loaded = await this.#store.load(service.name);
      if (loaded === undefined) return undefined;
      const info = this.#importInfo(service, loaded.version);
      const copy = snapshot(loaded.state);
      await service.importState(loaded.state, info);
      return copy;
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
    let saved: { state: unknown } | undefined;
    try {
      const state = await service.exportState();
      if (
        options.onlyIfChanged === true &&
        record.lastSaved !== undefined &&
        isDeepStrictEqual(state, record.lastSaved.state)
      ) {
        return false;
      }
      // The copy to compare later exports with is taken of exactly what goes to the store, now: a
      // change the service makes to a live state object while the store works is then "changed".
      saved = snapshot(state);
      await this.#store.save(record.name, state, service.version === undefined ? {} : { version: service.version });
    } catch (error) {
      throw new StateSaveFailedError(record.name, error);
    }
    record.lastSaved = saved;
    return true;
  }

  /**
   * A hot swap's state transfer from `old` to `next`. With a store, the state
   * goes through it as at a stop (encrypted and written, so a crash right
   * after the swap does not lose it) and the copy read back is what `next`
   * imports; else a structured clone, so the new version never shares
   * objects with the old one (a rollback needs the old one's state untouched).
   * @throws whatever the clone, the save or the load throws (the swap rolls back).
   */
  async transfer(
    record: ServiceRecord,
    old: Service,
    next: Service,
    exported: unknown,
  ): Promise<{ state: unknown; info: ImportInfo }> {
    const info = this.#importInfo(next, old.version);
    if (this.#store === undefined) return { state: structuredClone(exported), info };
    await this.#store.save(record.name, exported, old.version === undefined ? {} : { version: old.version });
    // The store holds the old version's export under its version: the next checkpoint saves again, under the new one.
    record.lastSaved = undefined;
    const loaded = await this.#store.load(record.name);
    if (loaded === undefined) throw new Error(`the store lost the state of "${record.name}" between save and load`);
    return { state: loaded.state, info };
  }

  /** What `importState` is told, with a warning when an older version imports a newer one's state. */
  #importInfo(service: Service, fromVersion: string | undefined): ImportInfo {
    const info: ImportInfo = {};
    if (fromVersion === undefined) return info;
    info.fromVersion = fromVersion;
    const version = service.version;
    if (version !== undefined && (compareVersions(fromVersion, version) ?? 0) > 0) {
      this.#logger.warn(
        'service "%s" %s imports state saved by a newer version, %s',
        service.name,
        version,
        fromVersion,
      );
    }
    return info;
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
