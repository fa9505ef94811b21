import { basics } from "./basics.ts";
import { compareAndSet, concurrency, fencing } from "./conditions.ts";
import { hostile } from "./hostile.ts";
import { lifecycle } from "./lifecycle.ts";
import { registerSuite, type DescribeStateStoreOptions, type StateStoreFixture } from "./suite.ts";

/**
 * Registers the `StateStore` conformance suite for one backend as a vitest `describe`
 * block: the behaviour the file and memory stores have and every backend must have
 * (round trips, names, the value rules, limits, ordering, compare-and-set, fencing,
 * two instances racing on one backing data, hostile input, `close()`).
 *
 * Pass `{ setup }` (or `setup` alone): it makes fresh, empty backing data before each
 * test and returns a {@link StateStoreFixture} that opens store instances on it. Start
 * servers in your own `beforeAll`/`afterAll` around the call.
 *
 * @example
 * ```ts
 * import { beforeAll, afterAll } from "vitest";
 * import { describeStateStore } from "@mk/state/testing";
 *
 * let server: TestServer;
 * beforeAll(async () => (server = await startServer()));
 * afterAll(() => server.stop());
 * describeStateStore("MyStateStore", {
 *   setup: async () => {
 *     const table = await server.freshTable();
 *     return {
 *       open: (limits) => new MyStateStore({ url: server.url, table, crypter, ...limits }),
 *       dispose: () => server.dropTable(table),
 *     };
 *   },
 * });
 * ```
 * @throws StateError `INVALID_ARGUMENT` when `setup` is not a function.
 */
export function describeStateStore(
  name: string,
  setup: DescribeStateStoreOptions | (() => StateStoreFixture | Promise<StateStoreFixture>),
): void {
  const options: DescribeStateStoreOptions = typeof setup === "function" ? { setup } : setup;
  registerSuite(name, options, [basics, compareAndSet, fencing, concurrency, hostile, lifecycle]);
}
