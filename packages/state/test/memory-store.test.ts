import { describe, expect, it } from "vitest";
import { MemoryStateStore, StateError } from "@mk/state";
import { MemoryStateStore as FromSubpath } from "@mk/state/memory";
import { describeStateStoreConformance } from "./conformance.ts";

describeStateStoreConformance("MemoryStateStore", (options) => new MemoryStateStore(options));

describe("MemoryStateStore", () => {
  it("is exported from the memory subpath too", () => {
    expect(FromSubpath).toBe(MemoryStateStore);
  });

  it("refuses bad options", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, "10"]) {
      expect(() => new MemoryStateStore({ maxBytes: bad as number })).toThrow(StateError);
      expect(() => new MemoryStateStore({ maxDepth: bad as number })).toThrow(/positive integer/);
    }
  });
});
