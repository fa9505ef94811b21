import { afterEach, beforeEach, describe, expect } from "vitest";
import { StateError } from "../errors.ts";
import type { StateStore } from "../state-store.ts";

/** Limits a conformance test asks of a store it opens; a backend must honour both. */
export interface StoreLimits {
  /** Largest state accepted by `save` (encoded or sealed bytes, as the backend measures). */
  maxBytes?: number;
  /** Deepest nesting of objects/arrays accepted by `save`. */
  maxDepth?: number;
}

/**
 * A store with `close()`: optional in {@link StateStore} (so a store written to the
 * five-method contract still type-checks), required of a backend that claims conformance.
 */
export type ClosableStateStore = StateStore & { close(): Promise<void> };

/**
 * One test's backing data (a directory, a table, a bucket), fresh and empty, made by
 * {@link DescribeStateStoreOptions.setup} before each test.
 */
export interface StateStoreFixture {
  /**
   * Opens a store instance on this fixture's backing data. Tests call it once, or twice
   * for two instances racing on the same data (as two processes or nodes would); a
   * backend whose instances are exclusive per process (the file store's directory lock)
   * still lets instances of one process share it. The suite closes every store it opened
   * after the test, before `dispose`.
   */
  open(limits: StoreLimits): ClosableStateStore | Promise<ClosableStateStore>;
  /** Removes the backing data (drop the table, remove the directory). Called after each test. */
  dispose?(): void | Promise<void>;
}

/** Options of {@link describeStateStore}. */
export interface DescribeStateStoreOptions {
  /** Makes fresh, empty backing data for one test. Called before each test. */
  setup(): StateStoreFixture | Promise<StateStoreFixture>;
  /**
   * Time limit of each test, in milliseconds (the property and concurrency tests do
   * hundreds of saves; a remote backend on a busy machine needs room).
   * @default 120000
   */
  timeout?: number;
}

/** What each group of conformance tests gets. */
export interface SuiteContext {
  /** A store on the current test's backing data; closed by the suite after the test. */
  open(limits?: StoreLimits): Promise<ClosableStateStore>;
}

/** One `describe` block running `groups` against fresh backing data per test (unstorage's `testDriver` pattern). */
export function registerSuite(
  name: string,
  options: DescribeStateStoreOptions,
  groups: readonly ((context: SuiteContext) => void)[],
): void {
  if (typeof options?.setup !== "function") {
    throw new StateError("INVALID_ARGUMENT", `describeStateStore("${name}"): expected options.setup to be a function`);
  }
  describe(`StateStore conformance: ${name}`, { timeout: options.timeout ?? 120_000 }, () => {
    let fixture: StateStoreFixture | undefined;
    let opened: ClosableStateStore[] = [];

    beforeEach(async () => {
      fixture = await options.setup();
      opened = [];
    });

    afterEach(async () => {
      const stores = opened;
      const current = fixture;
      opened = [];
      fixture = undefined;
      try {
        // close() must resolve, however the test left the store (closed already, mid-failure).
        for (const store of stores) await expect(store.close()).resolves.toBeUndefined();
      } finally {
        await current?.dispose?.();
      }
    });

    const context: SuiteContext = {
      async open(limits = {}) {
        if (fixture === undefined) throw new Error("open() outside a conformance test");
        const store = await fixture.open(limits);
        opened.push(store);
        return store;
      },
    };
    for (const group of groups) group(context);
  });
}

/** Awaits `promise`, expecting a rejected StateError; returns it. */
export async function rejection(promise: Promise<unknown>): Promise<StateError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(StateError);
    return error as StateError;
  }
  throw new Error("expected a rejection");
}
