// Subpath "@mk/state/testing": the conformance suite every StateStore backend runs.
// Needs vitest (and fast-check) installed beside it: they are optional peer dependencies.
export { describeStateStore } from "./describe-state-store.ts";
export type { ClosableStateStore, DescribeStateStoreOptions, StateStoreFixture, StoreLimits } from "./suite.ts";
export { INVALID_NAMES, VALID_EDGE_NAMES, isStorableJson, unsupportedCases } from "./cases.ts";
