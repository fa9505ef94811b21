export type { LoadedState, SaveMeta, StateStore } from "./state-store.ts";
